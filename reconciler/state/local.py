"""The local backend: one JSON file, its `.backup`, and an OS lock on `<file>.lock`.

Crash safety: a write goes to a temp file in the same folder (flushed and fsynced), the
current file is hard-linked to `<file>.backup` (atomically, through a temp name), the temp
file is renamed over the state file with `os.replace`, and the folder is fsynced. At every
instant the state file is either the complete old version or the complete new one.

Concurrent writers: the store remembers the serial (and the file's inode/size/mtime) it last
read or wrote. A write first stats the file; if it changed, the file is re-read and a serial
other than the remembered one raises SerialConflict without touching anything. The lock is
what keeps two runs apart; this check catches a writer that ignored it.

A store object serves one run and is not thread-safe: call write() from one thread at a time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.state.codec import NewerStateFormat, StateEncoder, parse_state_text
from reconciler.state.locking import FileLock, pid_alive, read_holder
from reconciler.state.model import State
from reconciler.state.store import LockInfo, SerialConflict, StateError

_Fingerprint = tuple[int, int, int, int]   # (st_dev, st_ino, st_size, st_mtime_ns)


@dataclass(frozen=True)
class _Seen:
    """The serial this store last read or wrote, and the file it was in (None: no file)."""

    serial: int
    fingerprint: _Fingerprint | None


def state_path_problem(path: Path) -> str | None:
    """Why `path` cannot be a local state file, judged without writing anything; None if it can.
    (Whether its folder is writable shows only when the lock file is created.)"""
    if path.is_dir():
        return f"{path} is a folder; the state must be a file (e.g. {path / 'state.json'})"
    if path.exists() and not path.is_file():
        return f"{path} is not a regular file"
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, so the folder for the state file {path.name} cannot be made there"
            break
    return None


def _fingerprint(st: os.stat_result) -> _Fingerprint:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class LocalStateStore:
    def __init__(self, path: Path, *, lock_timeout: float = 0.0):
        self.path = Path(path).absolute()
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock = FileLock(self.lock_path, where=str(self.path))
        self._lock_timeout = lock_timeout
        self._encoder = StateEncoder()
        self._seen: _Seen | None = None

    def describe(self) -> str:
        return f"local state file {self.path}"

    # --- locking ---------------------------------------------------------------------

    def lock(self, command: str, timeout: float = 0.0) -> LockInfo:
        """Hold the lock until unlock() or process exit; waits up to the larger of
        `timeout` and the store's `lock_timeout`."""
        problem = state_path_problem(self.path)
        if problem:
            raise StateError(f"cannot use {problem}")
        return self._lock.acquire(LockInfo.current(command), max(timeout, self._lock_timeout))

    def unlock(self) -> None:
        self._lock.release()

    def close(self) -> None:
        self.unlock()

    def force_unlock(self, lock_id: str) -> None:
        """Clear holder info left by a dead process; refuse anything else.

        A local lock is a kernel lock: it is released the moment its holder exits, however it
        exits, so it can never be stuck. What can be left behind is the holder *info* in the
        lock file; it is cleared only when the named holder is provably dead.
        """
        holder = read_holder(self.lock_path)
        kernel_note = ("local locks are kernel locks, released as soon as the holding process exits, "
                       "so they cannot be stuck")
        if holder is None:
            if self._lock.clear_stale_holder():
                raise StateError(f"{self.path} is not locked; nothing to unlock ({kernel_note})")
            raise StateError(f"{self.path} is locked by a process that has not recorded itself yet; retry")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current {holder.describe()}")
        if holder.host != socket.gethostname():
            raise StateError(f"{holder.describe()}: that process runs on another host and cannot be checked "
                             f"from here; stop it there ({kernel_note})")
        if pid_alive(holder.pid):
            raise StateError(f"refusing to unlock: {holder.describe()} and that process is still running; "
                             f"stop it (e.g. kill {holder.pid}) and its lock is released ({kernel_note})")
        if not self._lock.clear_stale_holder():
            raise StateError(f"process {holder.pid} is gone but the lock is still held by a process that "
                             f"inherited it; stop that process")

    # --- reading and writing ------------------------------------------------------------

    def read(self) -> State | None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            self._seen = _Seen(0, None)
            return None
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "rb") as f:
                fingerprint = _fingerprint(os.fstat(f.fileno()))
                data = f.read()
        except OSError as exc:             # e.g. a folder where the file should be
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(f"{self.path} is corrupt (not UTF-8 text)\n{self._backup_hint()}") from exc
        try:
            state = parse_state_text(text, str(self.path), self._backup_hint())
        except NewerStateFormat as exc:
            raise NewerStateFormat(str(self.path), exc.format_version, self._newer_format_note()) from None
        self._seen = _Seen(state.serial, fingerprint)
        return state

    def write(self, state: State) -> State:
        """Persist `state` atomically with serial = max(state.serial, serial read) + 1.

        The serial this store last read or wrote (or, if it has read nothing, `state.serial`)
        must still be the one on disk (a missing file counts as 0), else SerialConflict.
        """
        base = self._seen.serial if self._seen is not None else state.serial
        on_disk = self._serial_on_disk()
        if on_disk != base:
            raise SerialConflict(f"{self.path} changed behind this run: serial on disk is {on_disk}, "
                                 f"this run last saw {base}; nothing was overwritten")
        new = replace(state, lineage=state.lineage or str(uuid.uuid4()), serial=max(state.serial, base) + 1)
        try:
            fingerprint = self._replace_atomically(self._encoder.encode(new).encode("utf-8"))
        except OSError as exc:
            raise StateError(f"cannot write {self.path}: {exc.strerror or exc}; the previous version is "
                             f"intact") from exc
        self._seen = _Seen(new.serial, fingerprint)
        return new

    def _serial_on_disk(self) -> int:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0
        if self._seen is not None and self._seen.fingerprint == _fingerprint(st):
            return self._seen.serial
        try:
            return int(json.loads(self.path.read_bytes())["serial"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{self.path} is corrupt; refusing to overwrite it\n{self._backup_hint()}") from exc

    def _replace_atomically(self, data: bytes) -> _Fingerprint:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        tmp = self._temp_name()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                fingerprint = _fingerprint(os.fstat(fd))
            finally:
                os.close(fd)
            if self.path.exists():
                self._keep_backup()
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        return fingerprint

    def _keep_backup(self) -> None:
        """Make the current file `<file>.backup`, atomically (the state file is untouched)."""
        tmp = self._temp_name()
        try:
            try:
                os.link(self.path, tmp)              # same inode: no copy, old bytes kept
            except OSError:                          # filesystems without hard links
                shutil.copyfile(self.path, tmp)
                _fsync_file(tmp)
            os.replace(tmp, self.backup_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _temp_name(self) -> Path:
        return self.path.with_name(f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")

    def _newer_format_note(self) -> str:
        """For a state from a newer bria: the backup is no way out (it is an earlier version)."""
        if not self.backup_path.exists():
            return ""
        return (f"Do not restore {self.backup_path} in its place: it holds an earlier version, and using it "
                f"would roll the state back.")

    def _backup_hint(self) -> str:
        if self.backup_path.exists():
            return (f"The previous version is in {self.backup_path}; inspect it and, if it is right, "
                    f"copy it over {self.path.name}.")
        return f"No backup ({self.backup_path.name}) exists."


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable: fsync the directory entry (best effort where unsupported)."""
    try:
        _fsync_file(folder)
    except OSError:
        pass
