"""The API's limits, and bria's own input limits: one source for every check that uses them.

The manifest checks (`images`, `dataset_images`, `yamlsource`, `manifest`) and the planner
read these names; nothing else spells the numbers. The emulator keeps its own copies (it
imports nothing from the reconciler, because it stands for the real API): a test
(`tests/test_limits.py`) reads both and fails when they disagree. The API's numbers come from
Bria's Tailored Generation documentation.
"""

from __future__ import annotations

# --- the API ---------------------------------------------------------------------------------

MAX_IMAGES_PER_DATASET = 200        # per-image uploads ("basic" datasets): 409 beyond it
MIN_IMAGE_SIDE = 256                # smaller than 256×256 is refused (412)
MIN_SIDE_WITHOUT_UPSCALE = 1024     # with increase_resolution: false, below 1024×1024 is refused (412)
MAX_PREFIX_IMAGES = 6               # generate_prefix takes 1–6 sample images
MIN_SCHEMA_IMAGES = 5               # generate_visual_schema takes 5–10 sample images (400 otherwise)
MAX_SCHEMA_IMAGES = 10
MIN_FIBO_IMAGES_TO_COMPLETE = 5     # a FIBO dataset completes with at least 5 images (409 otherwise)

# Bria answers 413 above a 12 MB image payload (documented on other Bria endpoints; the
# tailored-generation pages are silent). An upload is a JSON body carrying the image as base64,
# which is 4/3 of the file's size, and the docs do not say whether "payload" means the file
# or the encoded body. bria takes the conservative reading: the *encoded* image must fit in
# 12 MB (decimal), so a file may be at most 9,000,000 bytes.
MAX_IMAGE_PAYLOAD_BYTES = 12_000_000
MAX_IMAGE_FILE_BYTES = MAX_IMAGE_PAYLOAD_BYTES // 4 * 3     # base64: 3 bytes → 4 characters


def base64_size(file_bytes: int) -> int:
    """Length of the base64 text of a file of `file_bytes` bytes (with padding)."""
    return 4 * ((file_bytes + 2) // 3)


# --- bria's own input limits -----------------------------------------------------------------

# A manifest larger than this is refused before it is parsed. Parsing costs ~0.75 s per MB
# (libyaml's parser, PyYAML's Python tag resolver; ~2.5 s per MB without libyaml) and ~40 MB
# of memory per MB, and a real manifest is far smaller: 60 datasets × 200 images, each with
# a 100-character inline caption, is about 1.4 MB. Longer captions belong in sidecar files.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# How many values YAML aliases may add to a document beyond the ones written in it (an
# alias bomb — "billion laughs" — is tiny on disk and explodes when expanded). Values that
# are written out are not counted: a big manifest is refused by MAX_MANIFEST_BYTES instead.
MAX_ALIAS_EXPANSION = 100_000

__all__ = ["MAX_IMAGES_PER_DATASET", "MIN_IMAGE_SIDE", "MIN_SIDE_WITHOUT_UPSCALE", "MAX_PREFIX_IMAGES",
           "MIN_SCHEMA_IMAGES", "MAX_SCHEMA_IMAGES", "MIN_FIBO_IMAGES_TO_COMPLETE", "MAX_IMAGE_PAYLOAD_BYTES", "MAX_IMAGE_FILE_BYTES", "base64_size", "MAX_MANIFEST_BYTES",
           "MAX_ALIAS_EXPANSION"]
