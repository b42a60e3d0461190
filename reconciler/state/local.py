"""The local backend: one JSON file, its `.backup`, and an OS lock on `<file>.lock`.

Crash safety: a write goes to a temp file in the same folder (flushed and fsynced), the
current file is hard-linked to a second temp name, the new file is renamed over the state
file with `os.replace`, and only then the linked old version is renamed over `<file>.backup`;
the folder is fsynced. At every instant the state file is either the complete old version or
the complete new one, and the backup is never replaced by a copy of the current version: a
write that fails leaves both the state and the backup as they were.

Concurrent writers: the store remembers the serial (and the file's inode/size/mtime) it last
read or wrote. A write first stats the file; if it changed, the file is re-read and a serial
other than the remembered one raises SerialConflict without touching anything. The lock is
what keeps two runs apart; this check catches a writer that ignored it.

A store object serves one run and is not thread-safe: call write() from one thread at a time.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import socket
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconciler.state.changefile import ChangeAppender, ChangeFileContents, ChangeFileError, frame, read_changes
from reconciler.state.changes import ChangeError, encode_change, replay, should_append
from reconciler.state.codec import (NewerStateFormat, StateEncoder, check_format_version, decode_state,
                                   has_pending_mark, parse_state_text)
from reconciler.state.locking import FileLock, pid_alive, read_holder
from reconciler.state.model import PENDING_CHANGES_FORMAT_VERSION, State
from reconciler.state.store import LockInfo, SerialConflict, StateError

_Fingerprint = tuple[int, int, int, int]   # (st_dev, st_ino, st_size, st_mtime_ns)


@dataclass(frozen=True)
class _Seen:
    """The serial this store last read or wrote, the state file it was in (None: no file)
    and the change file after it ((inode, size); None: no change file)."""

    serial: int
    fingerprint: _Fingerprint | None
    changes: tuple[int, int] | None = None


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
    # An flock is held until this process lets go or exits: `check_lock` has nothing to check.
    lock_can_be_lost = False

    def __init__(self, path: Path, *, lock_timeout: float = 0.0):
        self.path = Path(path).absolute()
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock = FileLock(self.lock_path, where=str(self.path))
        self._lock_timeout = lock_timeout
        self.changes_path = self.path.with_name(self.path.name + ".changes")
        self._encoder = StateEncoder()
        self._seen: _Seen | None = None
        # The state last read or written (what the files hold), the state file's size, and
        # whether the change file may be appended to (False after a torn last line).
        self._head: State | None = None
        self._snapshot_bytes = 0
        self._changes_clean = True
        self._marked = False       # the state file carries the pending-changes mark
        self._appender = ChangeAppender(self.changes_path)

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
        """Fold pending changes into the state file (a run ends with one complete file),
        then release the lock."""
        if self._lock.held and self._seen is not None and (self._marked or self._seen.changes is not None):
            try:
                self._fold()
            except (StateError, OSError):
                pass                     # the changes stay; the next run reads them
        self._appender.close()
        self._lock.release()

    def close(self) -> None:
        self.unlock()

    def check_lock(self) -> None:
        """Nothing to check: an flock is held until this process lets go or exits, and
        force-unlock refuses while the holder lives (see StateStore.check_lock)."""

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
        changes = self._read_changes()
        try:
            state, marked = self._decoded(text, changes.changes)
        except NewerStateFormat as exc:
            raise NewerStateFormat(str(self.path), exc.format_version, self._newer_format_note()) from None
        self._seen = _Seen(state.serial, fingerprint, self._changes_stat() if changes.size else None)
        self._head, self._snapshot_bytes, self._changes_clean = state, len(data), changes.clean
        self._marked = marked
        return state

    def _read_changes(self) -> ChangeFileContents:
        try:
            return read_changes(self.changes_path)
        except ChangeFileError as exc:
            raise StateError(f"{exc}\n{self._backup_hint()}") from exc
        except OSError as exc:
            raise StateError(f"cannot read {self.changes_path}: {exc.strerror}") from exc

    def _decoded(self, text: str, changes: list[dict[str, Any]]) -> tuple[State, bool]:
        """The state file with the change file's changes applied, schema-checked, and whether
        the state file carries the pending-changes mark."""
        try:
            document = json.loads(text)
        except ValueError:
            return parse_state_text(text, str(self.path), self._backup_hint()), False   # raises, worded
        marked = has_pending_mark(document)
        if not changes:
            return decode_state(document, str(self.path), self._backup_hint()), marked
        check_format_version(document, str(self.path))
        try:
            document = replay(document, changes)
        except (ChangeError, AttributeError, KeyError, TypeError, ValueError) as exc:
            raise StateError(f"{self.changes_path} does not apply to {self.path}: {exc}\n"
                             f"{self._backup_hint()}") from exc
        return decode_state(document, f"{self.path} with {self.changes_path.name}", self._backup_hint()), marked

    def _changes_stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.changes_path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size

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
            if self._can_append(new) and not self._marked:
                self._write_snapshot(new, marked=True)   # the mark first, then changes after it
            elif self._can_append(new):
                assert self._seen is not None and self._head is not None
                self._changes_clean = False      # until the append is whole: a failed one may leave
                changes = self._appender.append(frame(encode_change(self._head, new)))   # a torn line
                self._seen, self._changes_clean = replace(self._seen, serial=new.serial, changes=changes), True
            else:
                self._write_snapshot(new)
        except OSError as exc:
            raise StateError(f"cannot write {self.path}: {exc.strerror or exc}; the previous version is "
                             f"intact") from exc
        self._head = new
        return new

    def _can_append(self, new: State) -> bool:
        """Append a change (O(change)) rather than rewrite the file (O(state)): only while
        this store holds the lock (its unlock folds the changes, so a run never leaves them
        behind; a writer without the lock always rewrites), and see state/changes.py."""
        head, seen = self._head, self._seen
        if not self._lock.held or head is None or seen is None or seen.fingerprint is None or not self._changes_clean:
            return False
        if new.serial != head.serial + 1 or new.lineage != head.lineage or seen.serial != head.serial:
            return False
        return should_append(self._snapshot_bytes, seen.changes[1] if seen.changes else 0)

    def _write_snapshot(self, state: State, marked: bool = False) -> None:
        """Rewrite the state file with `state` (`marked`: with the pending-changes mark, as the
        snapshot that changes will follow), then drop the change file it includes."""
        stored = replace(state, format_version=PENDING_CHANGES_FORMAT_VERSION) if marked else state
        data = self._encoder.encode(stored).encode("utf-8")
        fingerprint = self._replace_atomically(data)
        self._appender.remove()
        self._seen = _Seen(state.serial, fingerprint)
        self._snapshot_bytes, self._changes_clean, self._marked = len(data), True, marked

    def _fold(self) -> None:
        """Rewrite the state file with the state the change file leads to (same serial)."""
        if self._head is not None and self._serial_on_disk() == self._head.serial:
            self._write_snapshot(self._head)

    def _serial_on_disk(self) -> int:
        """The serial the files hold now: the state file's, or its change file's last."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0
        changes = self._changes_stat()
        if self._seen is not None and self._seen.fingerprint == _fingerprint(st) and self._seen.changes == changes:
            return self._seen.serial
        try:
            serial = int(json.loads(self.path.read_bytes())["serial"])
            contents = read_changes(self.changes_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{self.path} is corrupt; refusing to overwrite it\n{self._backup_hint()}") from exc
        if not contents.clean:
            self._changes_clean = False          # a torn last line: never append after it
        return max((c["serial"] for c in contents.changes if c["serial"] > serial), default=serial)

    def _replace_atomically(self, data: bytes) -> _Fingerprint:
        """Write `data` as the new state file; the old one becomes `<file>.backup` only once
        the new one is in place, so a failed write (e.g. an immutable state file) never
        touches the backup: it always holds the version before the current one."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        tmp = self._temp_name()
        staged_backup: Path | None = None
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
            if self.backup_path.is_dir():       # it could never become the backup: stop now
                raise IsADirectoryError(errno.EISDIR, f"{self.backup_path.name} is a folder")
            if self.path.exists():
                staged_backup = self._stage_backup()
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            if staged_backup is not None:
                staged_backup.unlink(missing_ok=True)
            raise
        if staged_backup is not None:
            self._promote_backup(staged_backup)
        _fsync_dir(folder)
        return fingerprint

    def _stage_backup(self) -> Path:
        """The current file under a temp name (same inode, or a copy where the filesystem has
        no hard links, or the file refuses links — an immutable file)."""
        staged = self._temp_name()
        try:
            try:
                os.link(self.path, staged)           # same inode: no copy, old bytes kept
            except OSError:
                shutil.copyfile(self.path, staged)
                _fsync_file(staged)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged

    def _promote_backup(self, staged: Path) -> None:
        """Make the staged previous version `<file>.backup`. The new state is already written,
        so a failure here only leaves the older backup in place (never a reason to fail)."""
        try:
            os.replace(staged, self.backup_path)
        except OSError:
            staged.unlink(missing_ok=True)

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
