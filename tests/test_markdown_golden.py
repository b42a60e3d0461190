"""A golden Markdown plan (the PR comment) for a big change: 199 new images and 2 deleted, a long caption
prefix replacing a short one and a long manual caption edited — every value whole, every
image listed, old → new for the prefix and the caption. `BRIA_UPDATE_GOLDEN=1` rewrites it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fixtures_apply import load, write_case
from reconciler.planner import plan
from reconciler.render import render_plan
from reconciler.state.model import DatasetRecord, DatasetVersion, ImageRecord, ModelRecord, ProjectRecord, State

GOLDEN = Path(__file__).parent / "golden_markdown" / "two_hundred_images.md"
LONG_PREFIX = ("A paper-cut style illustration of the village of Luna at dusk, layered coloured paper with soft "
               "shadows between the layers, warm lantern light in the windows, a deep blue sky with cut-out "
               "stars, hand-made texture visible on every sheet, ")
LONG_CAPTION = ("Luna waving at the viewer from the bridge over the river, her blue hair blowing to the left, "
                "the paper lanterns of the market behind her, and her cat asleep on the railing beside her")
MANIFEST = f"""\
version: 1
projects:
  luna:
    name: Village light
    ip_type: stylized_scene
    ip_medium: illustration
datasets:
  scenes:
    project: luna
    name: Paper village scenes
    caption_prefix: {json.dumps(LONG_PREFIX)}
    images:
      - folder: images
models:
  village:
    dataset: scenes
    name: Village light
"""


def _state(manifest) -> State:
    by_name = {i.path.name: i for i in manifest.datasets["scenes"].images}
    first = by_name["img_000.png"]
    images = {first.sha256: ImageRecord(1001, first.image_name, LONG_CAPTION.split(",")[0], "manual")}
    for n in (1, 2):   # two images the manifest no longer has
        sha = f"{n:x}" * 64
        images[sha] = ImageRecord(1001 + n, f"{sha[:16]}-old_{n}.png", "a street", "automatic")
    version = DatasetVersion(10, "Paper village scenes", "completed", "A paper-cut village, ", images)
    return State(lineage="00000000-0000-4000-8000-000000000000", serial=3,
                 projects={"luna": ProjectRecord(1, {"name": "Village light", "ip_type": "stylized_scene",
                                                     "ip_medium": "illustration"})},
                 datasets={"scenes": DatasetRecord("luna", (version,))},
                 models={"village": ModelRecord(20, "scenes", 10, "Village light", None, "max", "fully_automated",
                                                status="Completed", generation_prefix="A paper-cut village, ")})


def test_the_markdown_plan_of_a_200_image_change_shows_every_value_whole(tmp_path):
    images = {f"images/img_{i:03d}.png": i + 1 for i in range(200)}
    images["images/img_000.png"] = (1, LONG_CAPTION)
    manifest = load(write_case(tmp_path, MANIFEST, images, size=256))
    text = render_plan(plan(manifest, _state(manifest), None).to_dict(), "markdown")
    if os.environ.get("BRIA_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), f"{GOLDEN} differs (BRIA_UPDATE_GOLDEN=1 to accept)"

    assert "…" not in text and "cut to fit" not in text
    assert f'caption_prefix: "A paper-cut village, " → {json.dumps(LONG_PREFIX)}' in text
    assert f'images/img_000.png caption: "Luna waving at the viewer from the bridge over the river" → ' \
           f'{json.dumps(LONG_CAPTION)}' in text
    assert all(f"+         images/img_{i:03d}.png" in text for i in range(1, 200))
    assert "-         1111111111111111-old_1.png" in text and "-         2222222222222222-old_2.png" in text
    assert 'captions: "1 manual, 2 automatic" → "1 manual, 199 automatic"' in text
    assert "null" not in text
