"""Image files: folder scans, sidecar captions, and inspecting many images at once.

Contracts:
- `inspect_images` reads the files the HashCache cannot vouch for on a thread pool sized to
  the CPUs (file reads, sha256 and most of Pillow's header parsing release the GIL), each
  file read once and hashed and checked from that one read (`image_checks.read_image`, which
  documents what is checked per format and what memory it holds). Results come back in the
  order asked; the HashCache is only touched by the calling thread.
- `ReadAhead` (a manifest's reads, started before its checks) reads a batch of at least
  `PROCESS_MIN_FILES` files on forked worker processes instead, one per CPU
  (`image_workers.py`; where forking is safe, else on the thread pool): the same function
  on the same files, without the GIL the loading thread's own work holds.
- A file the cache has no entry for is not stat'ed first: the reader's `fstat` of the
  open file is its identity. A file the cache knows is stat'ed and, if unchanged, not opened.
- `HashCache` (`image_cache.py`) remembers the facts of images that passed every check, so
  a second run over unchanged files opens no image at all (`stats.bytes_hashed == 0`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reconciler.diagnostics import SourceRange
from reconciler.image_cache import CacheStats, HashCache, ImageInfo, default_cache_path, file_identity
from reconciler.image_checks import (HASH_CHUNK, JPEG_TAIL, SUPPORTED_FORMATS, Caption, CaptionReader,
                                     ImageProblem, ReadImage, Unread, ignore_bomb_warnings,
                                     read_image_and_caption)
from reconciler.limits import (MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PAYLOAD_BYTES, MAX_IMAGES_PER_DATASET,
                               MIN_IMAGE_SIDE, MIN_SIDE_WITHOUT_UPSCALE, base64_size)
from reconciler.model import ImageSpec

if TYPE_CHECKING:
    from reconciler.image_workers import ForkedReaders

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MIN_SIDE = MIN_IMAGE_SIDE           # the API's limits live in reconciler.limits
T = TypeVar("T")


# --- folders and captions -------------------------------------------------------------------


def is_image_name(name: str) -> bool:
    """An image by its name: a known suffix (any case), not a hidden file (e.g. macOS `._x.png`)."""
    return not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)


def list_folder(folder: Path, recursive: bool = False, symlinks: set[Path] | None = None) -> list[Path]:
    """Image files in `folder`, sorted by their path relative to it (code-point order, the
    same on every platform). Reads no file contents.

    Hidden files and folders are skipped. Symlinks are listed as found, dangling ones too
    (the caller decides whether their targets are acceptable and reports missing ones), and
    added to `symlinks` when it is given; symlinked sub-folders are not followed.
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
                    if symlinks is not None and path.is_symlink():
                        symlinks.add(path)
    else:
        with os.scandir(folder) as entries:
            for entry in entries:
                if is_image_name(entry.name) and (entry.is_file() or entry.is_symlink()):
                    path = Path(entry.path)
                    found.append((entry.name, path))
                    if symlinks is not None and entry.is_symlink():     # no syscall: from the listing
                        symlinks.add(path)
    return [path for _, path in sorted(found)]


def orphaned_sidecars(folder: Path, recursive: bool, images: Sequence[Path],
                      listed: set[str] | None = None) -> list[Path]:
    """`.txt` files in `folder` (and its sub-folders when `recursive`, skipping hidden ones as
    `list_folder` does) whose stem no image in `images` shares, sorted. (Compared as text:
    thousands of images per run, and pathlib objects cost microseconds each.) When `listed` is
    given, every entry whose name ends in `.txt` (any kind: see `sidecar_may_exist`) is added
    to it, lower-cased."""
    found: list[str] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(folder):
            if listed is not None:
                listed.update(os.path.join(dirpath, n).lower() for n in (*dirnames, *filenames) if n.endswith(".txt"))
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            found.extend(os.path.join(dirpath, name) for name in filenames if _is_caption_name(name))
    else:
        with os.scandir(folder) as entries:
            for e in entries:
                if listed is not None and e.name.endswith(".txt"):
                    listed.add(e.path.lower())
                if _is_caption_name(e.name) and e.is_file():
                    found.append(e.path)
    if not found:                       # the common case: no caption files at all
        return []
    used = {sidecar_text(str(image)) for image in images}
    return sorted(Path(path) for path in found if path not in used)


def sidecar_may_exist(image: Path, listed: set[str]) -> bool:
    """False when the folder listing `listed` (see `orphaned_sidecars`) shows `image` has no
    sidecar, so that reading it can be skipped. Compared lower-cased, so that on a
    case-insensitive file system a sidecar whose name differs in case is still read."""
    return bool(listed) and sidecar_text(str(image)).lower() in listed


def _is_caption_name(name: str) -> bool:
    return not name.startswith(".") and name.endswith(".txt")


def sidecar_path(image: Path) -> Path:
    return image.with_suffix(".txt")


def sidecar_text(image: str) -> str:
    """`sidecar_path` on a path's text (an image's name always has a suffix)."""
    return os.path.splitext(image)[0] + ".txt"


def sidecar_caption(image: Path) -> str | None:
    """The caption in the same-stem `.txt` beside `image`, stripped; None if absent or empty.
    Read as bytes and decoded, newlines translated as a text-mode read does (no text-file
    wrapper: this runs once per image)."""
    try:
        with open(sidecar_text(str(image)), "rb") as f:
            text = f.read().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ImageProblem(f"has a caption file {sidecar_path(image).name} that is not UTF-8 text ({exc.reason})")
    except OSError as exc:
        raise ImageProblem(f"has a caption file {sidecar_path(image).name} that cannot be read ({exc.strerror})")
    return text.strip() or None


def no_sidecar(image: Path) -> None:
    """The caption reader for an image whose folder listing shows no sidecar: reads nothing."""
    return None


# --- hashing and checks ---------------------------------------------------------------------


def inspect_image(path: Path, cache: HashCache | None = None) -> ImageInfo:
    """Hash and check one image file (or take its facts from the cache). Raises ImageProblem."""
    result = inspect_images([path], cache)[0]
    if isinstance(result, ImageProblem):
        raise result
    return result


def inspect_images(paths: Sequence[Path], cache: HashCache | None = None) -> list[ImageInfo | ImageProblem]:
    """`inspect_image` for many files: for each path, in order, its ImageInfo or the
    ImageProblem it would raise. Files missing from the cache are read on a thread pool."""
    return [facts for facts, _ in inspect_with_captions(paths, [None] * len(paths), cache)]


def inspect_with_captions(paths: Sequence[Path], readers: Sequence[CaptionReader | None],
                          cache: HashCache | None = None, ahead: ReadAhead | None = None
                          ) -> list[tuple[ImageInfo | ImageProblem, Caption]]:
    """`inspect_images`, and for each good image read on the pool, its caption by its reader
    (`Unread.CAPTION` for the others: cache hits, no reader). Files `ahead` has been reading
    are taken from it."""
    results: list[tuple[ImageInfo | ImageProblem, Caption] | None] = [None] * len(paths)
    pending: list[tuple[int, Future[list[ReadImage]], int, bool]] = []   # index, batch, position, new miss
    unread: list[tuple[int, bool]] = []
    for index, path in enumerate(paths):
        if ahead is not None and (started := ahead.take(path)) is not None:
            pending.append((index, *started, True))
            continue
        if cache is not None and cache.knows(path):
            st = _stat(path)
            cached = st if isinstance(st, ImageProblem) else cache.lookup(path, st)
            if cached is not None:
                results[index] = (cached, Unread.CAPTION)
                continue
            unread.append((index, False))       # the lookup counted its miss
        else:
            unread.append((index, True))
    futures = iter(_submit_all([(paths[index], readers[index]) for index, _ in unread]))
    for batch in _batches(unread):
        future = next(futures)
        pending += [(index, future, position, new_miss) for position, (index, new_miss) in enumerate(batch)]
    pending.sort(key=lambda item: item[0])
    try:
        for index, future, position, new_miss in pending:
            read = future.result()[position]
            results[index] = (_recorded(paths[index], read, cache, new_miss), read.caption)
    finally:
        # On Ctrl-C/SIGTERM, batches not started are not read: only those in flight finish.
        for _, future, _, _ in pending:
            future.cancel()
    return results  # type: ignore[return-value]  # every slot is filled above


class ReadAhead:
    """Files being read before `inspect_with_captions` asks for them, so that reading overlaps
    the caller's other work (the manifest's schema check, other datasets' checks). Only files
    the cache has no entry for are read ahead; nothing is reported here.

    A read-ahead of at least `PROCESS_MIN_FILES` files is read on forked worker processes
    (`image_workers`; where forking is safe) rather than the thread pool, so that the
    caller's Python work does not compete with the reads for the GIL; `cancel` ends them."""

    def __init__(self) -> None:
        self._started: dict[Path, tuple[Future[list[ReadImage]], int]] = {}
        self._workers: ForkedReaders | None = None
        self._forked = False

    def start(self, paths: Sequence[Path], readers: Sequence[CaptionReader | None],
              cache: HashCache | None) -> None:
        todo = [(path, reader) for path, reader in dict(zip(paths, readers)).items()
                if path not in self._started and (cache is None or not cache.knows(path))]
        for batch, future in zip(_batches(todo), _submit_all(todo, self._submitter(len(todo)))):
            self._started.update((path, (future, position)) for position, (path, _) in enumerate(batch))

    def take(self, path: Path) -> tuple[Future[list[ReadImage]], int] | None:
        return self._started.pop(path, None)

    def seal(self) -> None:
        """Every read this read-ahead will make has been started: workers may end when done."""
        if self._workers is not None:
            self._workers.seal()

    def cancel(self) -> None:
        """Forget what was not taken; reads not begun are not done. Ends the worker processes."""
        for future, _ in self._started.values():
            future.cancel()
        self._started.clear()
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def _submitter(self, count: int) -> Callable[[list[tuple[Path, CaptionReader | None]]], Future[list[ReadImage]]]:
        if not self._forked and count >= PROCESS_MIN_FILES and _worker_count() > 1:
            self._forked = True             # tried once: where it is not safe, it will not become so
            ignore_bomb_warnings()          # before forking: the workers inherit the filter
            from reconciler.image_workers import ForkedReaders, signals_held  # here: a warm run never needs it

            with signals_held():            # a Ctrl-C now finds the workers recorded, for `cancel`
                self._workers = ForkedReaders.start(_worker_count(), _read_sent_batch,
                                                    lambda batch: _pool().submit(_read_sent_batch, batch))
        if self._workers is None:
            return _on_pool
        workers = self._workers
        return lambda batch: workers.submit([(str(path), reader) for path, reader in batch])


def _submit_all(items: list[tuple[Path, CaptionReader | None]],
                submit: Callable[[list[tuple[Path, CaptionReader | None]]], Future[list[ReadImage]]] | None = None
                ) -> list[Future[list[ReadImage]]]:
    """Read `items` in batches, in order, on the thread pool (or by `submit`): one future per batch."""
    if not items:
        return []
    ignore_bomb_warnings()
    return [(submit or _on_pool)(batch) for batch in _batches(items)]


def _on_pool(batch: list[tuple[Path, CaptionReader | None]]) -> Future[list[ReadImage]]:
    return _pool().submit(_read_batch, batch)


def _read_batch(batch: list[tuple[Path, CaptionReader | None]]) -> list[ReadImage]:
    """Runs on a pool thread."""
    return [read_image_and_caption(path, read_caption) for path, read_caption in batch]


def _read_sent_batch(batch: list[tuple[str, CaptionReader | None]]) -> list[ReadImage]:
    """Runs in a worker process: `_read_batch` of paths sent as text (unpickling a Path costs
    3x more than making one)."""
    return [read_image_and_caption(Path(path), read_caption) for path, read_caption in batch]


def _recorded(path: Path, read: ReadImage, cache: HashCache | None, new_miss: bool
              ) -> ImageInfo | ImageProblem:
    """Count the read in the cache's stats and keep a good image's facts there. A file that
    could not be opened is not a miss (a cache cannot hold it), as a failed stat is not."""
    if cache is not None and read.identity is not None:
        cache.stats.misses += new_miss
        cache.stats.bytes_hashed += read.bytes_read
        if isinstance(read.result, ImageInfo):
            cache.store(path, read.identity, read.result)
    return read.result


# One pool per process, started on first use (threads are not restarted per dataset). A
# forked child gets a new one: the parent's threads do not exist there.
_POOL: tuple[int, ThreadPoolExecutor] | None = None
BATCHES_PER_THREAD = 4              # enough to keep every thread busy to the end of a dataset
MAX_BATCH = 16                      # files per task: fewer futures, less per-file overhead
PROCESS_MIN_FILES = 64              # a read-ahead of this many files is read on worker processes


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=_worker_count(), thread_name_prefix="bria-images"))
    return _POOL[1]


def _batches(items: list[T]) -> list[list[T]]:
    size = max(1, min(MAX_BATCH, -(-len(items) // (_worker_count() * BATCHES_PER_THREAD))))
    return [items[start:start + size] for start in range(0, len(items), size)]


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
               caption_origin: str | None, source: SourceRange | None = None, rel_path: str | None = None) -> ImageSpec:
    """The ImageSpec for a checked file. `path` is absolute and normalised (not resolved: a
    symlink keeps its own name); `rel_path` is relative to the manifest's folder `root`
    (`relative_posix(path, root)`, given when the caller has it)."""
    return ImageSpec(sha256=info.sha256, path=path, rel_path=rel_path or relative_posix(path, root),
                     caption=caption, caption_origin=caption_origin if caption is not None else None,
                     width=info.width, height=info.height, format=info.format, size=info.size,
                     source=source)


__all__ = ["IMAGE_SUFFIXES", "SUPPORTED_FORMATS", "HASH_CHUNK", "JPEG_TAIL", "MIN_SIDE", "MIN_SIDE_WITHOUT_UPSCALE",
           "MAX_IMAGES_PER_DATASET", "ImageProblem", "file_identity", "ImageInfo", "CacheStats", "HashCache",
           "default_cache_path", "inspect_image", "inspect_images", "inspect_with_captions", "ReadAhead", "Unread",
           "Caption", "CaptionReader", "is_image_name", "list_folder", "orphaned_sidecars", "sidecar_caption",
           "sidecar_path", "sidecar_text", "sidecar_may_exist", "no_sidecar", "size_problem", "image_spec",
           "relative_posix"]
