"""One source of the API's limits (`reconciler.limits`), and the emulator agrees with it.

The emulator imports nothing from the reconciler (it stands for the real API), so it keeps its
own constants; this test reads both sides and fails when they drift apart. The manifest checks
must read `reconciler.limits` rather than spell the numbers: a check here looks for the numbers
outside it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reconciler import limits
from reconciler.emulator import datasets as emulator_datasets
from reconciler.emulator import images as emulator_images
from reconciler.emulator import dialects as emulator_dialects
from reconciler.emulator import prefixes as emulator_prefixes
from reconciler.emulator import visual_schemas as emulator_schemas
from reconciler.emulator.config import EmulatorConfig

PACKAGE = Path(limits.__file__).parent


@pytest.mark.parametrize("ours, theirs", [
    (limits.MAX_IMAGES_PER_DATASET, emulator_datasets.MAX_IMAGES),
    (limits.MIN_IMAGE_SIDE, emulator_images.MIN_SIDE),
    (limits.MIN_SIDE_WITHOUT_UPSCALE, emulator_images.FULL_RESOLUTION_SIDE),
    (limits.MAX_PREFIX_IMAGES, emulator_prefixes.MAX_SAMPLES),
    (limits.MIN_SCHEMA_IMAGES, emulator_schemas.MIN_SCHEMA_IMAGES),
    (limits.MAX_SCHEMA_IMAGES, emulator_schemas.MAX_SCHEMA_IMAGES),
    (limits.MIN_FIBO_IMAGES_TO_COMPLETE, emulator_dialects.MIN_IMAGES_TO_COMPLETE["fibo"]),
], ids=["images per dataset", "min side", "min side without increase_resolution", "prefix images",
        "min schema images", "max schema images", "fibo images to complete"])
def test_the_emulator_enforces_the_limits_bria_checks(ours: int, theirs: int) -> None:
    assert ours == theirs


def test_the_image_payload_limit_fits_the_documented_12_mb() -> None:
    assert limits.MAX_IMAGE_PAYLOAD_BYTES == 12_000_000 == EmulatorConfig().max_image_bytes
    # The emulator applies 12 MB to the decoded file; bria, not knowing which the real API
    # means, applies it to the base64 text: what bria lets through, the emulator accepts.
    assert limits.MAX_IMAGE_FILE_BYTES < EmulatorConfig().max_image_bytes
    assert limits.base64_size(limits.MAX_IMAGE_FILE_BYTES) <= limits.MAX_IMAGE_PAYLOAD_BYTES
    assert limits.base64_size(limits.MAX_IMAGE_FILE_BYTES + 1) > limits.MAX_IMAGE_PAYLOAD_BYTES


# The numbers that only reconciler.limits may spell (outside the emulator). 1024 (the side
# without increase_resolution) is left out: it is also the byte arithmetic of KiB and MiB.
LIMIT_NUMBERS = {limits.MAX_IMAGES_PER_DATASET, limits.MIN_IMAGE_SIDE, limits.MAX_IMAGE_PAYLOAD_BYTES,
                 limits.MAX_IMAGE_FILE_BYTES, limits.MAX_ALIAS_EXPANSION}
CHECK_MODULES = ["images.py", "dataset_images.py", "manifest.py", "yamlsource.py", "planner/content.py"]


@pytest.mark.parametrize("module", CHECK_MODULES)
def test_the_manifest_checks_spell_no_limit_themselves(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    spelled = [(node.lineno, node.value) for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and type(node.value) is int and node.value in LIMIT_NUMBERS]
    assert spelled == [], f"{module} spells API limits itself (use reconciler.limits): {spelled}"
