"""Small thumbnails for visual plans, and finding an image the manifest no longer lists.

`data_uri(path)` → a `data:image/jpeg;base64,…` thumbnail at most `MAX_SIDE` pixels on its
long side (JPEG, so a page of 200 images stays around a megabyte and needs no network).

`find_in_git(root, rev, image_name)`: a removed image is usually gone from the working
tree but still in git. bria's image names are `<sha256[:16]>-<file name>`, so the blob is
found by its file name in the tree of `rev` and confirmed by its content hash. Returns the
path (relative to the repository) and the bytes, or None (no git, no such revision, or no
match) — callers then show the image by name only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from reconciler.identity import hash_prefix_of

MAX_SIDE = 128
_QUALITY = 70
_GIT_TIMEOUT = 20.0


def thumbnail_bytes(data: bytes, max_side: int = MAX_SIDE) -> bytes | None:
    """A JPEG thumbnail of image bytes; None when they are not an image Pillow reads."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max_side, max_side))          # JPEG: decode at a smaller scale
            thumb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    thumb.thumbnail((max_side, max_side))
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=_QUALITY, optimize=True)
    return out.getvalue()


def data_uri_of_bytes(data: bytes, max_side: int = MAX_SIDE) -> str | None:
    thumb = thumbnail_bytes(data, max_side)
    return None if thumb is None else "data:image/jpeg;base64," + base64.b64encode(thumb).decode("ascii")


def data_uri(path: Path, max_side: int = MAX_SIDE) -> str | None:
    try:
        return data_uri_of_bytes(path.read_bytes(), max_side)
    except OSError:
        return None


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_toplevel(root: Path) -> Path | None:
    out = _git(root, "rev-parse", "--show-toplevel")
    return Path(out.decode().strip()) if out else None


class GitTree:
    """The files of one revision, listed once and looked up by image name."""

    def __init__(self, root: Path, rev: str) -> None:
        self.root, self.rev = root, rev
        listing = _git(root, "ls-tree", "-r", "--name-only", "--full-tree", "-z", rev)
        self._by_name: dict[str, list[str]] = {}
        for entry in (listing or b"").split(b"\0"):
            if entry:
                path = entry.decode("utf-8", "replace")
                self._by_name.setdefault(PurePosixPath(path).name, []).append(path)

    def find(self, image_name: str) -> tuple[str, bytes] | None:
        """(repository path, bytes) of the blob bria named `image_name`, if any."""
        prefix = hash_prefix_of(image_name)
        if prefix is None:
            return None
        file_name = image_name[len(prefix) + 1:]
        for path in self._by_name.get(file_name, ()):
            data = _git(self.root, "cat-file", "blob", f"{self.rev}:{path}")
            if data is not None and hashlib.sha256(data).hexdigest()[:16] == prefix:
                return path, data
        return None
