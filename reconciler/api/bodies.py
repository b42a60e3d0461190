"""Request bodies that carry image files as base64 inside JSON.

An upload body is streamed: the file is read and base64-encoded one chunk at a time while
httpx sends it, so only one chunk per in-flight upload is held beyond httpx's own buffers.
Its exact length is known from the file size, so the request carries a Content-Length and
the server needs no chunked decoding. A body is a factory: each call starts a fresh stream
(a 429 retry regenerates the body from the file).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.limits import MAX_PREFIX_IMAGES

# A multiple of 3 bytes, so that each chunk encodes to base64 without padding and the
# chunks concatenate into one valid base64 string.
CHUNK_BYTES = 3 * 64 * 1024


class ImageFileError(Exception):
    """The local image file could not be read while its upload was being sent.

    Deliberately not an OSError: the client treats OSError during a send as a network
    fault, and a local read failure must not be mistaken for one.
    """


@dataclass(frozen=True)
class StreamedBody:
    """How to produce one request body: `open()` returns a fresh byte stream."""

    length: int
    open: Callable[[], AsyncIterator[bytes]]


def base64_length(byte_count: int) -> int:
    """Length of the base64 encoding (with padding) of `byte_count` bytes."""
    return 4 * ((byte_count + 2) // 3)


def upload_body(
    path: Path, *, image_name: str | None, increase_resolution: bool
) -> StreamedBody:
    """The JSON body `{"file": <base64>, "image_name": …, "increase_resolution": …}`.

    Raises OSError now (before any request) if the file cannot be stat'ed.
    """
    size = path.stat().st_size
    fields: dict[str, Any] = {"increase_resolution": increase_resolution}
    if image_name is not None:
        fields = {"image_name": image_name, **fields}
    head = b'{"file": "'
    tail = b'", ' + json.dumps(fields).encode("ascii")[1:]  # ensure_ascii: bytes == chars

    async def stream() -> AsyncIterator[bytes]:
        yield head
        async for chunk in _base64_chunks(path, size):
            yield chunk
        yield tail

    return StreamedBody(length=len(head) + base64_length(size) + len(tail), open=stream)


async def _base64_chunks(path: Path, expected_size: int) -> AsyncIterator[bytes]:
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except OSError as exc:
        raise ImageFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        sent = 0
        while True:
            chunk = await _read_chunk(handle, path)
            if not chunk:
                break
            sent += len(chunk)
            if sent > expected_size:
                break
            yield base64.b64encode(chunk)
    finally:
        handle.close()
    if sent != expected_size:
        # The Content-Length already promised `expected_size` bytes: stop the request.
        raise ImageFileError(f"{path} changed size while it was being uploaded")


async def _read_chunk(handle: BinaryIO, path: Path) -> bytes:
    try:
        return await asyncio.to_thread(handle.read, CHUNK_BYTES)
    except OSError as exc:
        raise ImageFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def encode_images(paths: Sequence[Path], limit: int = MAX_PREFIX_IMAGES) -> list[str]:
    """Base64 strings of 1 to `limit` files (6 for generate_prefix, 10 for a visual schema)."""
    if not 1 <= len(paths) <= limit:
        raise ValueError(f"this call takes 1 to {limit} images, got {len(paths)}")
    return [base64.b64encode(Path(p).read_bytes()).decode("ascii") for p in paths]
