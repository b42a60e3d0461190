"""An exclusive OS lock on a file, with holder info a blocked process can read.

The lock is `fcntl.flock(LOCK_EX)` on an open file description. The kernel releases it when
the holder closes the file or dies (SIGKILL included), so it can never be stuck after a
crash. After acquiring, the holder writes its LockInfo as JSON into the lock file; a process
that finds the lock taken reads that JSON to say who holds it. The lock file is never
deleted: deleting a flock'd file lets two processes lock two different inodes.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path

from reconciler.state.store import LockInfo, StateError, StateLocked

POLL_SECONDS = 0.1


class FileLock:
    def __init__(self, path: Path, where: str):
        self.path = path
        self._where = where            # how StateLocked names the locked thing
        self._fd: int | None = None
        self.info: LockInfo | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, info: LockInfo, timeout: float = 0.0) -> LockInfo:
        """Take the lock, polling until `timeout` seconds have passed; StateLocked if not."""
        if self._fd is not None:
            raise StateError(f"{self._where} is already locked by this process")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # os.open makes a non-inheritable fd (O_CLOEXEC): a child we exec never keeps our lock.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot create the lock file {self.path}: {exc.strerror} (the state's folder "
                             "must exist or be creatable, and be writable)") from exc
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while not _try_flock(fd):
                if time.monotonic() >= deadline:
                    raise StateLocked(read_holder(self.path), self._where)
                time.sleep(max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
            _write_holder(fd, info)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self.info = fd, info
        return info

    def release(self) -> None:
        """Clear the holder info, then let go of the lock. Safe to call when not held."""
        fd, self._fd, self.info = self._fd, None, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)               # closing the description releases the flock

    def clear_stale_holder(self) -> bool:
        """If nobody holds the lock, erase leftover holder info; True if it was free."""
        if not self.path.exists():
            return True
        fd = os.open(self.path, os.O_RDWR)
        try:
            if not _try_flock(fd):
                return False
            os.ftruncate(fd, 0)
            return True
        finally:
            os.close(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _write_holder(fd: int, info: LockInfo) -> None:
    data = json.dumps(info.to_dict(), sort_keys=True).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def read_holder(path: Path) -> LockInfo | None:
    """The holder info in a lock file, or None if empty, missing or unreadable.

    The holder writes it just after acquiring, so a reader racing that write may see
    nothing; callers then report the holder as unknown.
    """
    try:
        text = path.read_text(encoding="utf-8")
        return LockInfo.from_dict(json.loads(text)) if text.strip() else None
    except (OSError, ValueError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
