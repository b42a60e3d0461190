"""The local backend's change file, `<state>.changes`: one line per state write since the
state file (the snapshot) was last rewritten. See `state/changes.py` for what a change is.

A line is `<crc32 of the JSON, 8 hex digits> <JSON>\\n`, written with one `write` call on an
O_APPEND descriptor and `fdatasync`ed before `append` returns. A crash mid-append leaves at
most one incomplete last line (no newline, or a checksum that does not match): that write
never returned, so nothing depended on it, and `read_changes` ignores it. A bad line
*followed by* good ones is damage, never a crash, and is reported.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ChangeFileError(ValueError):
    """The change file is damaged (not a torn last line)."""


@dataclass(frozen=True)
class ChangeFileContents:
    changes: list[dict[str, Any]]
    size: int            # bytes in the file
    clean: bool          # False if a torn last line was ignored: rewrite before appending


def frame(change_json: str) -> bytes:
    data = change_json.encode("utf-8")
    return b"%08x " % zlib.crc32(data) + data + b"\n"


def read_changes(path: Path) -> ChangeFileContents:
    """The complete changes in `path` (none if it does not exist)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ChangeFileContents([], 0, True)
    lines = data.split(b"\n")
    tail = lines.pop()                    # after the last newline: b"" unless torn
    changes: list[dict[str, Any]] = []
    clean = tail == b""
    for number, line in enumerate(lines, 1):
        change = _parse(line)
        if change is None:
            if number == len(lines) and not tail:
                clean = False             # the last line, torn with its newline written
                break
            raise ChangeFileError(f"{path} line {number} is damaged (checksum or JSON)")
        changes.append(change)
    return ChangeFileContents(changes, len(data), clean)


def _parse(line: bytes) -> dict[str, Any] | None:
    crc, _, payload = line.partition(b" ")
    try:
        if len(crc) != 8 or int(crc, 16) != zlib.crc32(payload):
            return None
        change = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(change, dict) or not isinstance(change.get("serial"), int) \
            or not isinstance(change.get("ops"), list):
        return None
    return change


class ChangeAppender:
    """Appends framed changes to one change file, durably (fdatasync per append)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def append(self, line: bytes) -> tuple[int, int]:
        """Append one framed line; returns the file's (inode, size) afterwards."""
        if self._fd is None:
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            if created:
                _fsync_dir(self.path.parent)      # the new file's name must survive a crash too
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view):]
        os.fdatasync(self._fd)
        st = os.fstat(self._fd)
        return st.st_ino, st.st_size

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def remove(self) -> None:
        """Delete the file (after its changes were folded into the snapshot)."""
        self.close()
        self.path.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass                                     # not supported on some filesystems
    finally:
        os.close(fd)
