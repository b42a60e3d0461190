"""The image hash cache: facts about image files that passed every check, kept between runs.

An entry (sha256, width, height, format) is keyed by absolute path and valid while the file's
identity is unchanged: size, mtime_ns, inode, device and ctime_ns. Size + mtime alone is not
enough: a file replaced by another of the same size with its mtime preserved (`cp -p`,
`rsync -t`, a checkout within the timestamp's granularity) would keep the old hash. A
replacement by rename gets a new inode; an in-place rewrite moves ctime, which no user-space
call can set back. The cache is an optimisation, never a source of truth: a missing or
unreadable cache file is an empty cache. It lives at `<manifest folder>/.bria/image-cache.json`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE_FORMAT_VERSION = 2          # 2: entries keyed by inode, device and ctime too


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    width: int
    height: int
    format: str                     # "JPEG" | "PNG" | "WEBP"
    size: int                       # bytes


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    bytes_hashed: int = 0


def file_identity(st: os.stat_result) -> dict[str, int]:
    """What must be unchanged for a cached hash to still describe the file (see module doc)."""
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
            "ino": st.st_ino, "dev": st.st_dev}


class HashCache:
    """Image facts keyed by absolute path, valid while `file_identity` is unchanged;
    optionally persisted as JSON.

    `path=None` keeps the cache in memory only. A missing or unreadable cache file is an
    empty cache: the cache is an optimisation and never a source of truth.
    """

    def __init__(self, path: Path | None = None):
        self.path = path
        self.stats = CacheStats()
        self._entries: dict[str, dict] = self._read(path) if path else {}
        self._used: set[str] = set()
        self._dirty = False

    @staticmethod
    def _read(path: Path) -> dict[str, dict]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_FORMAT_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def knows(self, path: Path) -> bool:
        """Whether an entry for `path` exists (valid or not): only then is a stat worth it."""
        return str(path) in self._entries

    def lookup(self, path: Path, st: os.stat_result) -> ImageInfo | None:
        key = str(path)
        self._used.add(key)
        entry = self._entries.get(key)
        identity = file_identity(st)
        if entry and all(entry.get(field) == value for field, value in identity.items()):
            try:
                info = ImageInfo(entry["sha256"], int(entry["width"]), int(entry["height"]),
                                 entry["format"], st.st_size)
            except (KeyError, TypeError, ValueError):
                info = None
            if info is not None:
                self.stats.hits += 1
                return info
        self.stats.misses += 1
        return None

    def store(self, path: Path, identity: dict[str, int], info: ImageInfo) -> None:
        """Keep `info` for `path` while its `file_identity` is `identity`."""
        key = str(path)
        self._used.add(key)
        self._entries[key] = {**identity, "sha256": info.sha256,
                              "width": info.width, "height": info.height, "format": info.format}
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically if it changed. Entries of files that are gone are dropped.
        Raises OSError when the folder is not writable (callers may ignore it)."""
        if self.path is None or not self._dirty:
            return
        kept = {k: v for k, v in self._entries.items() if k in self._used or os.path.exists(k)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".image-cache.", dir=self.path.parent)
        try:
            # json.dumps, not json.dump: only the one-shot form uses the C encoder (json.dump
            # streams through the pure-Python one, ~10x slower: 0.2 s for 5,000 entries).
            # Unsorted: a cache nobody reads or diffs, and sorting 5,000 entries' keys costs
            # a third of the write, which a cold plan waits for.
            text = json.dumps({"version": CACHE_FORMAT_VERSION, "entries": kept})
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False


def default_cache_path(manifest_root: Path) -> Path:
    return manifest_root / ".bria" / "image-cache.json"

