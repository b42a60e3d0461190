"""One image file, read once: its sha256, its identity, and the checks that it is an image the
API takes. Runs on `images.inspect_images`' pool threads (or its worker processes): it touches
no shared state except Pillow's (thread-safe for opening) and needs the warnings filter
`ignore_bomb_warnings` sets.

Contracts:
- One open and one pass over the bytes. A file of at most `IN_MEMORY_MAX` bytes (nearly every
  training image) is read whole with one read into its pool thread's reusable buffer,
  hashed, and checked from that same buffer, so it costs one open, one read and one sha256
  (memory: a buffer per pool thread, as large as the largest such file read, at most
  `IN_MEMORY_MAX`). A larger file is hashed in `HASH_CHUNK` reads and checked from the open
  file (positioned reads), never held whole. Pixels are never decoded.
- The file's identity (`image_cache.file_identity`) is that of the open file (`fstat`), so it
  describes exactly the bytes that were hashed.
- What is checked, per format, and why:
    * every format: Pillow identifies it from the header (not the extension), and it must be
      JPEG, PNG or WEBP — what the API accepts.
    * PNG: `Image.verify()` walks every chunk and checks its CRC and the final IEND without
      decompressing anything, so truncated or corrupted files are caught cheaply.
    * JPEG (baseline and progressive): the marker segments are walked to the first scan and
      an end-of-image marker must follow it. This catches truncation, the common failure.
      Corrupt scan data is not looked for: decoding (even at 1/8 scale, as bria once did)
      cost ~1.7 ms per 250 KB image — 6× the hashing — and libjpeg only warns about most
      corrupt data, so a decode caught ~2% of random byte corruptions and little else.
    * WEBP: libwebp's demuxer validates the container when Pillow opens the file (a truncated
      file fails to open), and the RIFF length in the header must fit in the file.
- A Git LFS pointer (a small text file standing in for an image not fetched yet) saved under
  an image name is recognised and reported with the fix: `git lfs pull`.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from reconciler.image_cache import ImageInfo, file_identity

if TYPE_CHECKING:
    from PIL import Image

SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP")
HASH_CHUNK = 1 << 20
IN_MEMORY_MAX = 8 << 20          # files up to this size are read whole, once (see module doc)
JPEG_TAIL = 64 * 1024           # where a whole JPEG's end-of-image marker is looked for first
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"
LFS_POINTER_MAX_BYTES = 1024      # git-lfs pointers are ~130 bytes; the spec caps them at 1024
NO_JPEG_END = "is a corrupt or truncated image (no end-of-image marker after its first scan)"



class ImageProblem(Exception):
    """A file that cannot be used as a training image. The message is a predicate meant to
    follow the file's name: "is a truncated WEBP image", "was not found"."""


class Unread(Enum):
    CAPTION = "not read"


Caption = str | None | ImageProblem | Unread      # a sidecar's caption, none, why not, or not read
CaptionReader = Callable[[Path], str | None]      # reads an image's sidecar; raises ImageProblem


@dataclass(frozen=True)
class ReadImage:
    """What reading one file found: the `file_identity` of its `fstat` (None when it could not
    be opened), the bytes hashed, its facts or the problem that makes it unusable, and — when
    a reader was given and the image is good — its sidecar caption. (Plain data: it crosses
    from a worker process in a pickle.)"""
    identity: dict[str, int] | None
    bytes_read: int
    result: ImageInfo | ImageProblem
    caption: Caption = Unread.CAPTION


def ignore_bomb_warnings() -> None:
    """Past Pillow's limit (~179 Mpx) opening raises DecompressionBombError; between ~89 and
    ~179 Mpx it only warns (DecompressionBombWarning, a RuntimeWarning), and such photos are
    legitimate inputs. Call from the main thread before reading on a pool
    (`warnings.catch_warnings` is not thread-safe); re-adding the same filter replaces it, so
    calling it per batch is cheap and survives a test harness that resets the filters. The
    filter names Pillow's message, not its class, so that setting it does not import Pillow
    (plain JPEGs never need it)."""
    warnings.filterwarnings("ignore", message=_BOMB_WARNING, category=RuntimeWarning)


_BOMB_WARNING = r"Image size \(\d+ pixels\) exceeds limit of \d+ pixels"


def read_image_and_caption(path: Path, read_caption: CaptionReader | None) -> ReadImage:
    """`read_image`, then, if the image is good, its caption by `read_caption` (on the same
    pool thread, so the caller does no file I/O per image)."""
    read = read_image(path)
    if read_caption is None or isinstance(read.result, ImageProblem):
        return read
    try:
        caption: Caption = read_caption(path)
    except ImageProblem as problem:
        caption = problem
    return ReadImage(read.identity, read.bytes_read, read.result, caption)   # (dataclasses.replace: 4x slower)


def read_image(path: Path, in_memory_max: int = IN_MEMORY_MAX) -> ReadImage:
    """Open, hash and check one file (see module doc). Never raises for a bad file.
    (Plain `os` calls: each system call lets go of the GIL and must take it back, and a file
    object costs two more of them than open, fstat, read, close.)"""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return ReadImage(None, 0, ImageProblem("was not found"))
    except OSError as exc:
        return ReadImage(None, 0, ImageProblem(f"cannot be read ({exc.strerror})"))
    try:
        return _read_open(fd, in_memory_max)
    finally:
        os.close(fd)


def _read_open(fd: int, in_memory_max: int) -> ReadImage:
    try:
        st = os.fstat(fd)
        buffer = _thread_buffer(st.st_size + 1) if st.st_size <= in_memory_max else bytearray()
        read = _read_into(fd, buffer, st.st_size) if st.st_size <= in_memory_max else 0
        if read <= st.st_size <= in_memory_max:
            sha256, size = hashlib.sha256(memoryview(buffer)[:read]).hexdigest(), read
            source: _Source = _InMemory(buffer, read)
        else:
            f = open(fd, "rb", buffering=0, closefd=False)
            sha256, size = _hash_rest(f, hashlib.sha256(memoryview(buffer)[:read]), read)
            source = _OpenFile(f, size)
    except OSError as exc:
        return ReadImage(None, 0, ImageProblem(f"cannot be read ({exc.strerror})"))
    identity = file_identity(st)
    try:
        width, height, fmt = _check_image(source, size)
    except ImageProblem as problem:
        return ReadImage(identity, size, problem)
    except OSError as exc:          # a positioned read of a large file failed
        return ReadImage(identity, size, ImageProblem(f"cannot be read ({exc.strerror})"))
    return ReadImage(identity, size, ImageInfo(sha256, width, height, fmt, st.st_size))


_BUFFERS = threading.local()


def _thread_buffer(size: int) -> bytearray:
    """This pool thread's read buffer, at least `size` bytes. Reused from file to file: a
    fresh buffer per file cost ~20 µs of page faults each (0.1 s per 5,000 files). Never
    resized (a traceback may still hold a view of it): a larger one replaces it."""
    buffer = getattr(_BUFFERS, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _BUFFERS.buffer = bytearray(max(size, HASH_CHUNK))
    return buffer


def _read_into(fd: int, buffer: bytearray, size: int) -> int:
    """Read the file into `buffer`, asking for one byte more than `size`: getting it means the
    file grew while being read (the caller then reads on, in chunks). One read, unless it
    comes short of `size` (a regular file's read does not, short of its end)."""
    view = memoryview(buffer)
    read = os.readv(fd, [view[:size + 1]])
    while read < size and (more := os.readv(fd, [view[read:size + 1]])):
        read += more
    return read


def _hash_rest(f: BinaryIO, digest: "hashlib._Hash", total: int) -> tuple[str, int]:
    """Hash what is left of `f` in `HASH_CHUNK` reads into one buffer: (hex digest, bytes)."""
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    while n := f.readinto(buffer):
        digest.update(view[:n])
        total += n
    return digest.hexdigest(), total


def _check_image(source: _Source, size: int) -> tuple[int, int, str]:
    """(width, height, format) after the per-format integrity check described above, of the
    `size` bytes `source` holds."""
    if isinstance(source, _InMemory) and (plain := plain_jpeg(source.data, source.size)) is not None:
        width, height, scan_start = plain
        if not source.has_end_marker_after(scan_start):
            raise ImageProblem(NO_JPEG_END)
        return width, height, "JPEG"
    from PIL import Image  # here, not at the top: a run whose images are all cached never needs it

    try:
        with Image.open(source.file()) as im:
            fmt, (width, height) = im.format, im.size
            # Most phone and camera JPEGs carry a second (preview) image and Pillow calls
            # them MPO; the file is a JPEG all the same, and the API accepts it as one.
            if fmt == "MPO":
                fmt = "JPEG"
            if fmt not in SUPPORTED_FORMATS:
                raise ImageProblem(f"is a {fmt} image; the API accepts only JPEG, PNG and WEBP")
            _verify_integrity(im, source, fmt, size)
    except ImageProblem:
        raise
    except Image.DecompressionBombError:
        raise ImageProblem("has too many pixels to be a training image (decompression bomb?)")
    except Image.UnidentifiedImageError:
        if size <= LFS_POINTER_MAX_BYTES and source.read_at(0, len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX:
            raise ImageProblem("is a Git LFS pointer, not the image itself: the image was never fetched "
                               "(run `git lfs pull`, or check out with LFS enabled)")
        raise ImageProblem("is not a JPEG, PNG or WEBP image (its content is not a recognised image)")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageProblem(f"is a corrupt or truncated image ({exc})")
    return width, height, fmt


def _verify_integrity(im: Image.Image, source: _Source, fmt: str, size: int) -> None:
    if fmt == "PNG":
        im.verify()
    elif fmt == "JPEG":
        scan_start = _jpeg_first_scan_offset(source)
        if scan_start is None or not source.has_end_marker_after(scan_start):
            raise ImageProblem(NO_JPEG_END)
    else:
        header = source.read_at(0, 12)
        riff_size = int.from_bytes(header[4:8], "little")
        if header[:4] != b"RIFF" or riff_size + 8 > size:
            raise ImageProblem("is a truncated WEBP image (shorter than its RIFF header says)")


# --- plain JPEGs without Pillow ------------------------------------------------------------
# Opening a JPEG with Pillow costs ~20 µs of Python per file, under the GIL that the pool's
# threads share (0.1 s per 5,000 files, on a path where hashing them on 2 cores takes ~0.5 s).
# Most training images are "plain" JPEGs
# whose header segments Pillow only stores, and for those the facts are read here. A file is
# plain only when Pillow 13's JPEG `_open` (JpegImagePlugin) would read it without error and
# to the same size: every segment before the scan whole, exactly one baseline, extended or
# progressive frame header of 8-bit samples with 1, 3 or 4 components, quantisation tables
# of the lengths Pillow requires, APP segments Pillow parses only where they cannot fail, no
# EXIF (Pillow parses it), no multi-picture (MPO) or Photoshop segment, no fill bytes, and at
# most Pillow's default pixel limit. Anything else goes to Pillow, which reports it as before.
# tests/test_image_checks.py holds this to Pillow on thousands of mutated headers.

PILLOW_MAX_IMAGE_PIXELS = 89_478_485     # PIL.Image.MAX_IMAGE_PIXELS's default: above it, Pillow decides
_FRAMES = (0xC0, 0xC1, 0xC2)             # SOF0 baseline, SOF1 extended, SOF2 progressive
_SKIPPED = (0xC4, 0xDD, 0xFE)            # DHT, DRI, COM: read whole and not parsed


def plain_jpeg(data: bytes | bytearray, size: int | None = None) -> tuple[int, int, int] | None:
    """(width, height, offset just past the first SOS marker) of a plain JPEG in the first
    `size` bytes of `data` (all of it by default), else None."""
    size = len(data) if size is None else size
    if size < 3 or data[:3] != b"\xff\xd8\xff":
        return None
    offset, frame = 2, None
    while True:
        if offset + 4 > size or data[offset] != 0xFF:
            return None
        marker, length = data[offset + 1], (data[offset + 2] << 8) | data[offset + 3]
        end = offset + 2 + length
        if length < 2 or end > size:
            return None
        if marker == 0xDA:
            break
        if marker in _FRAMES:
            if frame is not None or not _plain_frame(data, offset + 4, end):
                return None
            frame = ((data[offset + 7] << 8) | data[offset + 8], (data[offset + 5] << 8) | data[offset + 6])
        elif 0xE0 <= marker <= 0xEF:
            if not _plain_app(marker, data[offset + 4:end]):
                return None
        elif marker == 0xDB:
            if not _plain_tables(data, offset + 4, end):
                return None
        elif marker not in _SKIPPED:
            return None
        offset = end
    if frame is None or 0 in frame or frame[0] * frame[1] > PILLOW_MAX_IMAGE_PIXELS:
        return None
    return frame[0], frame[1], offset + 2


def _plain_frame(data: bytes, start: int, end: int) -> bool:
    """SOF: 8-bit samples, 1/3/4 components, whole 3-byte component entries."""
    return end - start >= 6 and (end - start - 6) % 3 == 0 and data[start] == 8 and data[start + 5] in (1, 3, 4)


def _plain_tables(data: bytes, start: int, end: int) -> bool:
    """DQT: each table 1 + 64 or 1 + 128 bytes (by its precision nibble), all whole."""
    while start < end:
        start += 1 + (64 if data[start] < 16 else 128)
        if start > end:
            return False
    return True


def _plain_app(marker: int, payload: bytes) -> bool:
    if marker == 0xE1 and payload.startswith(b"Exif\0\0"):
        return False
    if marker == 0xE2 and payload.startswith(b"MPF\0"):
        return False
    if marker == 0xED and payload.startswith(b"Photoshop 3.0\0"):
        return False
    if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"):
        return len(payload) >= 14
    if (marker == 0xE0 and payload.startswith(b"JFIF")) or (marker == 0xEE and payload.startswith(b"Adobe")):
        return len(payload) >= 7
    return True


def _jpeg_first_scan_offset(source: _Source) -> int | None:
    """Offset just past the JPEG's first SOS marker (FF DA), walking segments by their
    lengths; None when the marker structure is broken before it.

    Segments before the scan (APPn with an embedded EXIF thumbnail, tables) are skipped by
    their declared length, so a thumbnail's own end-of-image marker (FF D9) cannot be taken
    for the image's. In scan data every 0xFF byte is followed by 00 or a restart marker, so
    an FF D9 after the scan's start is the image's end.
    """
    read_at = source.read_at
    if read_at(0, 2) != b"\xff\xd8":
        return None
    offset = 2
    while True:
        marker = read_at(offset, 2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] == 0xFF:               # fill byte before a marker
            offset += 1
            continue
        if marker[1] == 0xDA:
            return offset + 2
        length = int.from_bytes(read_at(offset + 2, 2), "big")
        if length < 2:
            return None
        offset += 2 + length


class _Source(Protocol):
    """A file's bytes, for the checks: as a file for Pillow, and by offset."""

    def file(self) -> BinaryIO: ...
    def read_at(self, offset: int, count: int) -> bytes: ...
    def has_end_marker_after(self, offset: int) -> bool: ...


class _InMemory:
    """The first `size` bytes of `data` (a thread's read buffer may hold more)."""

    def __init__(self, data: bytes | bytearray, size: int | None = None):
        self.data, self.size = data, len(data) if size is None else size

    def file(self) -> BinaryIO:
        return io.BytesIO(memoryview(self.data)[:self.size])      # a copy: Pillow may keep it

    def read_at(self, offset: int, count: int) -> bytes:
        return bytes(self.data[offset:min(offset + count, self.size)])

    def has_end_marker_after(self, offset: int) -> bool:
        return self.data.rfind(b"\xff\xd9", offset, self.size) >= 0   # from the end: a whole file ends with it


class _OpenFile:
    """A file too large to hold: positioned reads, so nothing is held whole."""

    def __init__(self, f: BinaryIO, size: int):
        self.f, self.size = f, size

    def file(self) -> BinaryIO:
        self.f.seek(0)
        return self.f

    def read_at(self, offset: int, count: int) -> bytes:
        return os.pread(self.f.fileno(), count, offset)

    def has_end_marker_after(self, offset: int) -> bool:
        """Looked for backwards in the last `JPEG_TAIL` bytes first (a whole file ends with
        the marker, or with a short trailer), and only then in everything after `offset`."""
        tail_start = max(offset, self.size - JPEG_TAIL)
        if self.read_at(tail_start, self.size - tail_start).rfind(b"\xff\xd9") >= 0:
            return True
        previous = b""
        while chunk := self.read_at(offset, HASH_CHUNK):
            if b"\xff\xd9" in previous + chunk:
                return True
            previous, offset = chunk[-1:], offset + len(chunk)
        return False
