"""Visual schemas and JSON captions (the FIBO family: dialects mixed and fibo).

`POST /tailored-gen/generate_visual_schema` {`images`: 5–10 base64 images or public URLs,
`content_moderation`?} → 200 `{"visual_schema": "<JSON string>"}`; another count → 400,
an undecodable or unsupported image → 415. It is deterministic: the same images (as a set)
give the same schema. It creates nothing (it is not tied to a dataset).

Captions of FIBO datasets are JSON strings derived from (visual schema, image sha256), so
the same image under the same schema always gets the same caption and a new schema gives
new captions. Manual captions must hold a JSON object (400 otherwise); the service "auto-
corrects minor issues", which the emulator shows by re-serialising what it accepts in its
own layout — so a client must compare captions as parsed JSON, never as text.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

from reconciler.emulator.captions import _POSES, _STYLES, _VIEWS, _pick
from reconciler.emulator.errors import bad_request
from reconciler.emulator.imagedata import decode_base64, inspect_image
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.validation import optional_bool, reject_unknown

MIN_SCHEMA_IMAGES, MAX_SCHEMA_IMAGES = 5, 10
_PALETTES = ("warm earth tones", "cool blues and greens", "pastel pinks and creams",
             "monochrome greys", "vivid primaries", "muted olive and ochre")
_MEDIUMS = ("digital illustration", "studio photograph", "ink and wash", "3D render",
            "flat vector art", "film photograph")


def canonical_json(value: Any) -> str:
    """How the emulator writes the JSON it stores: compact, keys in the order given."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_json_object(text: Any, field: str) -> dict[str, Any]:
    """`text` must be a string holding a JSON object (400 otherwise)."""
    if not isinstance(text, str):
        raise bad_request(f"{field} must be a string holding JSON")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise bad_request(f"{field} is not valid JSON") from None
    if not isinstance(value, dict) or not value:
        raise bad_request(f"{field} must hold a non-empty JSON object")
    return value


def generated_schema(image_keys: Sequence[str]) -> str:
    digest = hashlib.sha256("\x00".join(sorted(image_keys)).encode("utf-8")).digest()
    return canonical_json({
        "style": _pick(_STYLES, digest, 0),
        "colors": _pick(_PALETTES, digest, 1),
        "medium": _pick(_MEDIUMS, digest, 2),
        "composition": "centred subject, uncluttered background",
    })


def automatic_caption(visual_schema: str, image_sha256: str) -> str:
    """The JSON caption of one image under a visual schema."""
    digest = hashlib.sha256(f"{visual_schema}\x00{image_sha256}".encode("utf-8")).digest()
    try:
        schema = json.loads(visual_schema)
    except ValueError:
        schema = {}
    return canonical_json({
        "subject": _pick(_POSES, digest, 0),
        "view": _pick(_VIEWS, digest, 1),
        "style": schema.get("style", "unspecified") if isinstance(schema, dict) else "unspecified",
        "colors": schema.get("colors", "unspecified") if isinstance(schema, dict) else "unspecified",
    })


def checked_caption(caption: str) -> str:
    """A manual caption as the service stores it: a JSON object, re-serialised."""
    return canonical_json(parse_json_object(caption, "caption"))


def checked_schema(visual_schema: Any) -> str:
    return canonical_json(parse_json_object(visual_schema, "visual_schema"))


def _image_keys(images: Any) -> list[str]:
    if not isinstance(images, list) or not MIN_SCHEMA_IMAGES <= len(images) <= MAX_SCHEMA_IMAGES:
        raise bad_request(f"images must be a list of {MIN_SCHEMA_IMAGES} to {MAX_SCHEMA_IMAGES} images")
    keys = []
    for image in images:
        if isinstance(image, str) and image.startswith(("http://", "https://")):
            keys.append(image)   # the emulator fetches nothing: a URL is keyed by its text
        else:
            keys.append(inspect_image(decode_base64(image, "images[]")).sha256)
    return keys


def generate_visual_schema(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("images", "content_moderation"))
    optional_bool(body, "content_moderation", False)
    return Reply(200, {"visual_schema": generated_schema(_image_keys(body.get("images")))})


OPERATIONS = (
    Operation("POST", "/tailored-gen/generate_visual_schema", generate_visual_schema, mutates=False),
)
