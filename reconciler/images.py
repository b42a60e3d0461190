"""Image files: folder scans, sidecar captions, content hashes and cheap image checks.

Contracts:
- Memory stays flat: a file is hashed in 1 MiB chunks and never held whole, except that
  Pillow's WebP plugin reads one (compressed) file to open it. Pixels are never decoded.
- Many files are inspected at once (`inspect_images`): their bytes are read and hashed on a
  thread pool sized to the CPUs (hashlib and file reads release the GIL) while the calling
  thread runs the header checks below, so a cold scan costs about one read of every file.
  Results come back in the order asked; the HashCache is only touched by the calling thread.
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
- `HashCache` (`image_cache.py`) remembers the facts of images that passed every check, so
  a second run over unchanged files opens no image at all (`stats.bytes_hashed == 0`).
- A Git LFS pointer (a small text file standing in for an image not fetched yet) saved under
  an image name is recognised and reported with the fix: `git lfs pull`.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from reconciler.diagnostics import SourceRange
from reconciler.image_cache import CacheStats, HashCache, ImageInfo, default_cache_path, file_identity
from reconciler.limits import (MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PAYLOAD_BYTES, MAX_IMAGES_PER_DATASET,
                               MIN_IMAGE_SIDE, MIN_SIDE_WITHOUT_UPSCALE, base64_size)
from reconciler.model import ImageSpec

if TYPE_CHECKING:
    from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP")
MIN_SIDE = MIN_IMAGE_SIDE           # the API's limits live in reconciler.limits
HASH_CHUNK = 1 << 20
JPEG_TAIL = 64 * 1024           # where a whole JPEG's end-of-image marker is looked for first
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"
LFS_POINTER_MAX_BYTES = 1024      # git-lfs pointers are ~130 bytes; the spec caps them at 1024


class ImageProblem(Exception):
    """A file that cannot be used as a training image. The message is a predicate meant to
    follow the file's name: "is a truncated WEBP image", "was not found"."""


# --- folders and captions -------------------------------------------------------------------


def is_image_name(name: str) -> bool:
    """An image by its name: a known suffix (any case), not a hidden file (e.g. macOS `._x.png`)."""
    return not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)


def list_folder(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in `folder`, sorted by their path relative to it (code-point order, the
    same on every platform). Reads no file contents.

    Hidden files and folders are skipped. Symlinks are listed as found, dangling ones too
    (the caller decides whether their targets are acceptable and reports missing ones);
    symlinked sub-folders are not followed.
    """
    found: list[tuple[str, Path]] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            base = Path(dirpath)
            for name in filenames:
                if is_image_name(name):
                    path = base / name
                    found.append((path.relative_to(folder).as_posix(), path))
    else:
        with os.scandir(folder) as entries:
            for entry in entries:
                if is_image_name(entry.name) and (entry.is_file() or entry.is_symlink()):
                    found.append((entry.name, Path(entry.path)))
    return [path for _, path in sorted(found)]


def orphaned_sidecars(folder: Path, recursive: bool, images: Sequence[Path]) -> list[Path]:
    """`.txt` files in `folder` (and its sub-folders when `recursive`, skipping hidden ones as
    `list_folder` does) whose stem no image in `images` shares, sorted."""
    used = {sidecar_path(image) for image in images}
    found: list[Path] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            found.extend(Path(dirpath) / name for name in filenames if _is_caption_name(name))
    else:
        with os.scandir(folder) as entries:
            found.extend(Path(e.path) for e in entries if _is_caption_name(e.name) and e.is_file())
    return sorted(path for path in found if path not in used)


def _is_caption_name(name: str) -> bool:
    return not name.startswith(".") and name.endswith(".txt")


def sidecar_path(image: Path) -> Path:
    return image.with_suffix(".txt")


def sidecar_caption(image: Path) -> str | None:
    """The caption in the same-stem `.txt` beside `image`, stripped; None if absent or empty."""
    try:
        text = sidecar_path(image).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ImageProblem(f"has a caption file {sidecar_path(image).name} that is not UTF-8 text ({exc.reason})")
    except OSError as exc:
        raise ImageProblem(f"has a caption file {sidecar_path(image).name} that cannot be read ({exc.strerror})")
    return text.strip() or None


# --- hashing and checks ---------------------------------------------------------------------



def inspect_image(path: Path, cache: HashCache | None = None) -> ImageInfo:
    """Hash and check one image file (or take its facts from the cache). Raises ImageProblem."""
    result = inspect_images([path], cache)[0]
    if isinstance(result, ImageProblem):
        raise result
    return result


def inspect_images(paths: Sequence[Path], cache: HashCache | None = None
                   ) -> list[ImageInfo | ImageProblem]:
    """`inspect_image` for many files: for each path, in order, its ImageInfo or the
    ImageProblem it would raise. Files missing from the cache are hashed on a thread pool."""
    stats: list[os.stat_result | ImageProblem] = [_stat(path) for path in paths]
    results: list[ImageInfo | ImageProblem | None] = [None] * len(paths)
    misses: list[int] = []
    for index, (path, st) in enumerate(zip(paths, stats)):
        if isinstance(st, ImageProblem):
            results[index] = st
        elif cache is not None and (cached := cache.lookup(path, st)) is not None:
            results[index] = cached
        else:
            misses.append(index)
    if misses:
        pool = ThreadPoolExecutor(max_workers=min(_worker_count(), len(misses)))
        try:
            hashes = [pool.submit(_hash_file, paths[index]) for index in misses]
            for index, hashed in zip(misses, hashes):
                results[index] = _checked_info(paths[index], stats[index], hashed, cache)
        finally:
            # On Ctrl-C/SIGTERM, files not started are not read: only those in flight finish.
            pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]  # every slot is filled above


def _worker_count() -> int:
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, len(cpus) if cpus else (os.cpu_count() or 1))


def _stat(path: Path) -> os.stat_result | ImageProblem:
    try:
        return path.stat()
    except FileNotFoundError:
        return ImageProblem("was not found")
    except OSError as exc:
        return ImageProblem(f"cannot be read ({exc.strerror})")


def _checked_info(path: Path, st: os.stat_result, hashed: Future[tuple[str, int]],
                  cache: HashCache | None) -> ImageInfo | ImageProblem:
    """Check the image's header while its bytes are hashed on the pool, then combine.
    A read failure is reported before a check failure, as a sequential scan would."""
    checked: tuple[int, int, str] | ImageProblem
    try:
        checked = _check_image(path, st.st_size)
    except ImageProblem as problem:
        checked = problem
    try:
        sha256, bytes_read = hashed.result()
    except ImageProblem as problem:
        return problem
    if cache is not None:
        cache.stats.bytes_hashed += bytes_read
    if isinstance(checked, ImageProblem):
        return checked
    width, height, fmt = checked
    info = ImageInfo(sha256, width, height, fmt, st.st_size)
    if cache is not None:
        cache.store(path, st, info)
    return info


def _hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex digest, bytes read). Runs on pool threads: touches no shared state."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    total = 0
    try:
        with open(path, "rb", buffering=0) as f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
                total += n
    except OSError as exc:
        raise ImageProblem(f"cannot be read ({exc.strerror})")
    return digest.hexdigest(), total


def _check_image(path: Path, file_size: int) -> tuple[int, int, str]:
    """(width, height, format) after the per-format integrity check described above."""
    from PIL import Image  # here, not at the top: a run whose images are all cached never needs it

    try:
        with warnings.catch_warnings():
            # Past Pillow's limit (~179 Mpx) opening raises DecompressionBombError; between
            # ~89 and ~179 Mpx it only warns, and such photos are legitimate inputs.
            # (Only the calling thread opens images: catch_warnings is not thread-safe.)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open(path, "rb") as f, Image.open(f) as im:
                fmt, (width, height) = im.format, im.size
                # Most phone and camera JPEGs carry a second (preview) image and Pillow calls
                # them MPO; the file is a JPEG all the same, and the API accepts it as one.
                if fmt == "MPO":
                    fmt = "JPEG"
                if fmt not in SUPPORTED_FORMATS:
                    raise ImageProblem(f"is a {fmt} image; the API accepts only JPEG, PNG and WEBP")
                _verify_integrity(im, f, fmt, file_size)
    except ImageProblem:
        raise
    except Image.DecompressionBombError:
        raise ImageProblem("has too many pixels to be a training image (decompression bomb?)")
    except Image.UnidentifiedImageError:
        if _is_lfs_pointer(path, file_size):
            raise ImageProblem("is a Git LFS pointer, not the image itself: the image was never fetched "
                               "(run `git lfs pull`, or check out with LFS enabled)")
        raise ImageProblem("is not a JPEG, PNG or WEBP image (its content is not a recognised image)")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageProblem(f"is a corrupt or truncated image ({exc})")
    return width, height, fmt


def _is_lfs_pointer(path: Path, file_size: int) -> bool:
    """A Git LFS pointer file: small text starting with the LFS spec line."""
    if file_size > LFS_POINTER_MAX_BYTES:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX
    except OSError:
        return False


def _verify_integrity(im: Image.Image, f: BinaryIO, fmt: str, file_size: int) -> None:
    """`f` is the file `im` was opened from; this may move its position."""
    if fmt == "PNG":
        im.verify()
    elif fmt == "JPEG":
        if not _jpeg_scan_has_end(f, file_size):
            raise ImageProblem("is a corrupt or truncated image (no end-of-image marker after "
                               "its first scan)")
    else:
        f.seek(0)
        header = f.read(12)
        riff_size = int.from_bytes(header[4:8], "little")
        if header[:4] != b"RIFF" or riff_size + 8 > file_size:
            raise ImageProblem("is a truncated WEBP image (shorter than its RIFF header says)")


def _jpeg_scan_has_end(f: BinaryIO, file_size: int) -> bool:
    """True when an end-of-image marker (FF D9) follows the JPEG's first scan (SOS, FF DA).

    Segments before the scan (APPn with an embedded EXIF thumbnail, tables) are skipped by
    their declared length, so a thumbnail's own EOI cannot be mistaken for the image's. In
    scan data every 0xFF byte is followed by 00 or a restart marker, so FF D9 is the end.
    The marker is looked for backwards in the file's last `JPEG_TAIL` bytes first (a whole
    file ends with it, or with a short trailer), and only then in everything after the scan.
    """
    f.seek(0)
    scan_start = _jpeg_first_scan_offset(f)
    if scan_start is None:
        return False
    f.seek(max(scan_start, file_size - JPEG_TAIL))
    if f.read().rfind(b"\xff\xd9") >= 0:
        return True
    f.seek(scan_start)
    previous = b""
    while chunk := f.read(HASH_CHUNK):
        if b"\xff\xd9" in previous + chunk:
            return True
        previous = chunk[-1:]
    return False


def _jpeg_first_scan_offset(f: BinaryIO) -> int | None:
    """Offset just past the first SOS marker, walking segments by their lengths; None when
    the marker structure is broken before it."""
    if f.read(2) != b"\xff\xd8":
        return None
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] == 0xFF:               # fill byte before a marker
            f.seek(-1, os.SEEK_CUR)
            continue
        if marker[1] == 0xDA:
            return f.tell()
        length = int.from_bytes(f.read(2), "big")
        if length < 2:
            return None
        f.seek(length - 2, os.SEEK_CUR)


def size_problem(info: ImageInfo, increase_resolution: bool) -> str | None:
    """Why the API would refuse an image of this size (412 for too few pixels, 413 for too
    many bytes: see `limits.MAX_IMAGE_FILE_BYTES`), or None."""
    if info.size > MAX_IMAGE_FILE_BYTES:
        return (f"is {info.size / 1_000_000:.1f} MB ({info.size:,} bytes); uploaded as base64 it would be "
                f"{base64_size(info.size):,} bytes, above the API's limit of {MAX_IMAGE_PAYLOAD_BYTES:,} bytes "
                f"({MAX_IMAGE_PAYLOAD_BYTES // 1_000_000} MB) for an image (it answers 413). Make the file at most {MAX_IMAGE_FILE_BYTES:,} bytes "
                "(e.g. re-encode it as JPEG or WEBP, or scale it down: the API trains on 1024×1024)")
    if info.width < MIN_SIDE or info.height < MIN_SIDE:
        return (f"is {info.width}×{info.height}; the API needs at least "
                f"{MIN_SIDE}×{MIN_SIDE}")
    if not increase_resolution and (info.width < MIN_SIDE_WITHOUT_UPSCALE
                                    or info.height < MIN_SIDE_WITHOUT_UPSCALE):
        return (f"is {info.width}×{info.height}; with increase_resolution: false the API needs "
                f"at least {MIN_SIDE_WITHOUT_UPSCALE}×{MIN_SIDE_WITHOUT_UPSCALE}")
    return None


def relative_posix(path: Path, root: Path) -> str:
    """`path` relative to `root`, posix style, as `os.path.relpath` words it. Paths
    (normalised, absolute) inside `root` take a string fast path: thousands per run."""
    text, prefix = str(path), os.path.join(str(root), "")
    if text.startswith(prefix) and len(text) > len(prefix):
        return text[len(prefix):].replace(os.sep, "/")
    return Path(os.path.relpath(path, root)).as_posix()


def image_spec(path: Path, root: Path, info: ImageInfo, caption: str | None,
               caption_origin: str | None, source: SourceRange | None = None) -> ImageSpec:
    """The ImageSpec for a checked file. `path` is absolute and normalised (not resolved: a
    symlink keeps its own name); `rel_path` is relative to the manifest's folder `root`."""
    return ImageSpec(sha256=info.sha256, path=path, rel_path=relative_posix(path, root),
                     caption=caption, caption_origin=caption_origin if caption is not None else None,
                     width=info.width, height=info.height, format=info.format, size=info.size,
                     source=source)


__all__ = ["IMAGE_SUFFIXES", "SUPPORTED_FORMATS", "MIN_SIDE", "MIN_SIDE_WITHOUT_UPSCALE",
           "MAX_IMAGES_PER_DATASET", "ImageProblem", "file_identity", "ImageInfo", "CacheStats", "HashCache",
           "default_cache_path", "inspect_image", "inspect_images", "is_image_name", "list_folder", "orphaned_sidecars", "sidecar_caption",
           "sidecar_path", "size_problem", "image_spec", "relative_posix"]
