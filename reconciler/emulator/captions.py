"""Deterministic stand-ins for Bria's captioning models.

Automatic captions depend only on (caption prefix, image sha256): the same image under the
same prefix always gets the same caption, and a new prefix gives new captions. A caption
reads as a continuation of the prefix ("An illustration of Luna, " + "standing in a sunlit
meadow, seen from the front"). Prefixes depend only on the request's inputs.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

_POSES = (
    "standing in a sunlit meadow",
    "sitting on a wooden bench",
    "walking along a quiet street",
    "waving at the viewer",
    "reading a book by the window",
    "looking up at the night sky",
    "running through autumn leaves",
    "resting under a large tree",
    "holding a red umbrella in the rain",
    "smiling in a cosy kitchen",
    "exploring a misty forest",
    "standing on a rocky beach",
)
_VIEWS = (
    "seen from the front",
    "seen from the side",
    "close-up portrait",
    "full body",
    "wide shot",
    "three-quarter view",
    "soft morning light",
    "warm evening light",
)
_STYLES = (
    "soft watercolour style",
    "bold flat colours",
    "clean line art",
    "muted pastel palette",
    "high-contrast lighting",
    "natural light",
    "vintage film look",
    "vivid saturated colours",
)
_MEDIUM_WORDING = {"illustration": "An illustration", "photography": "A photograph"}


def _pick(options: Sequence[str], digest: bytes, index: int) -> str:
    return options[digest[index] % len(options)]


def automatic_caption(prefix: str, image_sha256: str) -> str:
    digest = hashlib.sha256(f"{prefix}\x00{image_sha256}".encode("utf-8")).digest()
    return f"{_pick(_POSES, digest, 0)}, {_pick(_VIEWS, digest, 1)}"


def default_caption_prefix(project_name: str, ip_type: str, ip_medium: str,
                           ip_name: str | None, ip_description: str | None) -> str:
    """The prefix a new dataset starts with, built from its project."""
    medium = _MEDIUM_WORDING.get(ip_medium, "An image")
    if ip_name:
        return f"{medium} of {ip_name}, "
    if ip_type == "stylized_scene":
        return f"{medium} of a scene in the {project_name} style, "
    if ip_type == "icons":
        return f"An icon in the {project_name} style, "
    if ip_type == "object_variants" and ip_description:
        return f"{medium} of {ip_description}, "
    return f"{medium} of {project_name}, "


def generated_prefix(image_keys: Sequence[str], ip_type: str, ip_medium: str, ip_name: str | None) -> str:
    """What generate_prefix answers: deterministic for the same images and fields.

    `image_keys` are the sha256 of each image (or the URL text for `image_urls`); their order
    does not matter, as the real service samples them as a set.
    """
    material = "\x00".join([ip_type, ip_medium, ip_name or "", *sorted(image_keys)])
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    medium = _MEDIUM_WORDING.get(ip_medium, "An image")
    style = _pick(_STYLES, digest, 0)
    if ip_type == "defined_character":
        return f"{medium} of {ip_name or 'the character'}, {style}, "
    if ip_type == "object_variants":
        return f"{medium} of a product variant, {style}, "
    return f"{medium} of a scene, {style}, "
