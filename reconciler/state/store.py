"""The StateStore interface: where state lives, how it is locked and written.

The core never knows where state lives. Backends: `local.LocalStateStore` (a JSON file)
and `postgres.PostgresStateStore` (one table, advisory locks).

Contract for every backend:
- `lock()` is taken once, for the whole command, before the first read. It raises
  `StateLocked` (naming the holder) if another run holds it, after waiting up to `timeout`
  seconds. A lock held by a process that died is released by the OS / the server, so no
  lock is ever stuck after a crash.
- `read()` returns the last written State, or None when there is none yet.
- `write(state)` persists atomically and returns the state with `serial` incremented. It
  raises `SerialConflict` when the stored serial moved since this store last read or wrote
  (another writer got in), and never overwrites it.
- `write` is called after every API mutation, so it must be cheap for small changes.
- `check_lock()` raises `LockLost` when the lock this store took is no longer held (e.g. a
  PostgreSQL session ended by `bria force-unlock`); it does nothing when no lock was taken.
  The executor calls it before every mutating API call, so it must be cheap: a no-op for
  the local backend (a kernel lock cannot be taken from a live process), one query on the
  lock's own connection for PostgreSQL.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler.state.model import State


@dataclass(frozen=True)
class LockInfo:
    id: str
    pid: int
    host: str
    user: str
    command: str
    created_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def current(command: str) -> "LockInfo":
        return LockInfo(id=str(uuid.uuid4()), pid=os.getpid(), host=socket.gethostname(),
                        user=getpass.getuser(), command=command,
                        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return (f"lock {self.id} held by pid {self.pid} on {self.host} (user {self.user}) "
                f"running `{self.command}` since {self.created_at}")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "pid": self.pid, "host": self.host, "user": self.user,
                "command": self.command, "created_at": self.created_at, "extra": dict(self.extra)}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "LockInfo":
        return LockInfo(d.get("id", "?"), int(d.get("pid", 0)), d.get("host", "?"), d.get("user", "?"),
                        d.get("command", "?"), d.get("created_at", "?"), dict(d.get("extra") or {}))


class StateError(Exception):
    """A state backend problem the user must act on (unreadable file, bad DSN, …)."""


class StateLocked(StateError):
    def __init__(self, holder: LockInfo | None, where: str):
        self.holder = holder
        who = holder.describe() if holder else "another process (holder unknown)"
        super().__init__(f"state {where} is locked: {who}")


class LockLost(StateError):
    """This run's state lock is gone (its session was ended or its connection dropped): the
    run must make no further API change, since another run may now hold the lock."""


class SerialConflict(StateError):
    """Another writer changed the state since we read it; nothing was overwritten."""


class StateStore(Protocol):
    def describe(self) -> str: ...

    def lock(self, command: str, timeout: float = 0.0) -> LockInfo: ...

    def unlock(self) -> None: ...

    def read(self) -> State | None: ...

    def write(self, state: State) -> State: ...

    def force_unlock(self, lock_id: str) -> None: ...

    def close(self) -> None:
        """Release the lock (if held) and any connection; safe to call more than once."""
        ...

    def check_lock(self) -> None:
        """Raise LockLost if the backend's lock is no longer held (no-op where it cannot be lost;
        such a store says so with a class attribute `lock_can_be_lost = False`, and the executor
        then does not call this before each mutating call)."""
        ...
