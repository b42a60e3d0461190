"""Decode an uploaded image (base64 in JSON) and read its metadata with Pillow.

Only the metadata leaves this module; the bytes are dropped once hashed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from reconciler.emulator.errors import bad_request, unsupported_media

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# Pillow names a multi-picture JPEG (most phone and camera .jpg files: the photo plus a
# preview frame) "MPO". Its first frame is an ordinary JPEG, and the file is a .jpg.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_DATA_URL_MARKER = ";base64,"
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    width: int
    height: int
    format: str


def decode_base64(text: object, field: str) -> bytes:
    """Base64 text → bytes; a `data:image/...;base64,` prefix is tolerated. Bad text → 400."""
    if not isinstance(text, str) or not text:
        raise bad_request(f"{field} must be a non-empty base64 string")
    if text.startswith("data:"):
        marker = text.find(_DATA_URL_MARKER)
        if marker < 0:
            raise bad_request(f"{field} is a data URL without ';base64,'")
        text = text[marker + len(_DATA_URL_MARKER):]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    # Line-wrapped base64 (RFC 2045, 76 characters a line) is valid base64 too. Only
    # whitespace is forgiven; any other stray character is still a 400.
    try:
        return base64.b64decode(_WHITESPACE.sub("", text), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{field} is not valid base64") from None


def inspect_image(data: bytes) -> ImageInfo:
    """Format and size from the bytes themselves (not a name or a declared type).

    Not an image, or an image in another format → 415.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = _FORMAT_ALIASES.get(image.format or "", image.format or "")
            width, height = image.size
            image.verify()
    except Image.DecompressionBombError:
        # The header claims more pixels than Pillow will open (~179 MP). The contract is
        # silent; a 400 names the problem where a crash would look like a server fault.
        raise bad_request("image is too large: its dimensions exceed what the service processes") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise unsupported_media("file is not a readable JPEG, PNG or WEBP image") from None
    if image_format not in ACCEPTED_FORMATS:
        raise unsupported_media(f"unsupported image format {image_format}; use JPEG, PNG or WEBP")
    return ImageInfo(hashlib.sha256(data).hexdigest(), width, height, image_format)
