"""The PostgreSQL backend: one row per workspace, a session advisory lock, CAS writes.

Table (created if missing):
    bria_state(workspace text primary key, lineage text, serial bigint, state jsonb,
               updated_at timestamptz, lock_info jsonb)

Locking: `pg_try_advisory_lock(key)`, key a stable 64-bit hash of the workspace, taken on ONE
connection (autocommit) that this store keeps open for the whole run and also uses for reads
and writes. It is a *session* lock: the server releases it when that connection ends,
including when the process dies, so it is never stuck after a crash. The holder records its
LockInfo (with its server backend pid) in `lock_info` so a blocked run can name it.

Writes: compare-and-swap on the serial this store last read (`UPDATE … WHERE serial = %s`);
0 rows → SerialConflict, nothing overwritten. While it holds the lock and the state is big,
a write instead inserts one row into `bria_state_changes(workspace, serial, change jsonb)`
(see state/changes.py), in a transaction that first checks, under a row lock, that the
snapshot's serial is still the one this store knows; the primary key (workspace, serial)
refuses a second writer of the same serial. `unlock` folds the changes into `bria_state`
and deletes them in one transaction.

force_unlock: when the recorded holder's id matches and that holder's session still holds
the advisory lock, its backend is terminated (`pg_terminate_backend`), which releases the
lock; the old holder's next write then fails, and the serial check stops any stale write.
It refuses when the id does not match or the session holding the lock is not the recorded
one. The DSN's password never appears in messages.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import replace
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from reconciler.state.changes import ChangeError, encode_change, replay, should_append
from reconciler.state.codec import StateEncoder, decode_state, has_pending_mark
from reconciler.state.model import PENDING_CHANGES_FORMAT_VERSION, State
from reconciler.state.store import LockInfo, LockLost, SerialConflict, StateError, StateLocked

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS bria_state (
    workspace  text PRIMARY KEY,
    lineage    text,
    serial     bigint NOT NULL DEFAULT 0,
    state      jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    lock_info  jsonb
)"""
CHANGES_DDL = """
CREATE TABLE IF NOT EXISTS bria_state_changes (
    workspace  text NOT NULL,
    serial     bigint NOT NULL,
    change     jsonb NOT NULL,
    PRIMARY KEY (workspace, serial)
)"""
_DDL_LOCK_KEY = 0x6272696173746174          # serialises concurrent CREATE TABLE IF NOT EXISTS
POLL_SECONDS = 0.1
TERMINATE_WAIT_SECONDS = 5.0


def advisory_key(workspace: str) -> int:
    """A stable signed 64-bit advisory-lock key for a workspace."""
    digest = hashlib.sha256(b"bria-state\0" + workspace.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresStateStore:
    def __init__(self, dsn: str, workspace: str, *, lock_timeout: float = 0.0, connect_timeout: float = 10.0):
        self._dsn = dsn
        self.workspace = workspace
        self._key = advisory_key(workspace)
        self._lock_timeout = lock_timeout
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection | None = None
        self._held: LockInfo | None = None
        self._seen_serial: int | None = None
        self._encoder = StateEncoder()
        # The state last read or written, the serial and size of the snapshot row, and the
        # bytes of changes stored after it (see state/changes.py).
        self._head: State | None = None
        self._snapshot_serial = 0
        self._snapshot_bytes = 0
        self._changes_bytes = 0
        self._marked = False       # the snapshot row carries the pending-changes mark

    def describe(self) -> str:
        try:
            params = conninfo_to_dict(self._dsn)
        except psycopg.Error:
            params = {}
        target = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or '?'}"
        return f"PostgreSQL state workspace {self.workspace!r} on {target}"

    # --- connection ----------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        if self._held is not None:
            raise StateError(f"lost the connection to {self.describe()} while holding its lock; "
                             f"the lock is gone, so this run stops writing state")
        try:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=int(self._connect_timeout),
                                   application_name="bria")
            # Checked first so that a role without CREATE rights can use an existing table.
            for table, ddl in (("bria_state", TABLE_DDL), ("bria_state_changes", CHANGES_DDL)):
                if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
                        conn.execute(ddl)
        except psycopg.Error as exc:
            raise StateError(f"cannot use {self.describe()}: {self._scrub(exc)}") from exc
        self._conn = conn
        return conn

    def _scrub(self, exc: BaseException) -> str:
        text = str(exc).strip() or type(exc).__name__
        try:
            password = conninfo_to_dict(self._dsn).get("password")
        except psycopg.Error:
            password = None
        if password:
            text = text.replace(str(password), "***")
        return text.replace(self._dsn, "<dsn>")

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor:
        conn = self._connection()
        try:
            return conn.execute(sql, params)
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: psycopg.Error) -> StateError:
        if isinstance(exc, psycopg.OperationalError):
            lost = " (the connection dropped: the lock is lost)" if self._held else ""
            return StateError(f"{self.describe()}: {self._scrub(exc)}{lost}")
        return StateError(f"{self.describe()}: {self._scrub(exc)}")

    def close(self) -> None:
        """Release the lock if held (as `unlock`) and end the session. Callers close a store
        when a run ends, so this must also clear the holder info the lock recorded."""
        self.unlock()

    def _disconnect(self) -> None:
        conn, self._conn, self._held = self._conn, None, None
        if conn is not None and not conn.closed:
            conn.close()                 # ends the session: the server drops its advisory locks

    # --- locking ---------------------------------------------------------------------

    def lock(self, command: str, timeout: float = 0.0) -> LockInfo:
        if self._held is not None:
            raise StateError(f"{self.describe()} is already locked by this process")
        deadline = time.monotonic() + max(timeout, self._lock_timeout)
        while not self._run("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise StateLocked(self._current_holder(), self.describe())
            time.sleep(max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
        conn = self._connection()
        info = replace(LockInfo.current(command), extra={"backend_pid": conn.info.backend_pid})
        self._held = info
        self._run("INSERT INTO bria_state (workspace, lock_info) VALUES (%s, %s::jsonb) "
                  "ON CONFLICT (workspace) DO UPDATE SET lock_info = EXCLUDED.lock_info",
                  (self.workspace, json.dumps(info.to_dict())))
        return info

    def unlock(self) -> None:
        held = self._held
        if held is not None and self._conn is not None and not self._conn.closed:
            if (self._marked or self._changes_bytes) and self._head is not None:
                try:
                    self._write_snapshot(self._head, self._head.serial)   # fold: one row again
                except StateError:
                    pass                 # the changes stay; the next run reads them
            try:
                self._conn.execute("UPDATE bria_state SET lock_info = NULL "
                                   "WHERE workspace = %s AND lock_info->>'id' = %s", (self.workspace, held.id))
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            except psycopg.Error:
                pass                     # closing the session below releases the lock anyway
        self._disconnect()

    def check_lock(self) -> None:
        """Raise LockLost unless this session still holds the workspace's advisory lock: one
        query on the lock's own connection (a terminated session fails it outright)."""
        held = self._held
        if held is None:
            return
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        conn = self._conn
        try:
            if conn is None or conn.closed:
                raise psycopg.OperationalError("the connection is closed")
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                               "AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 1",
                               (unsigned >> 32, unsigned & 0xFFFFFFFF)).fetchone()
        except psycopg.Error as exc:
            raise LockLost(self._lost_message(held, self._scrub(exc))) from exc
        if not row or not row[0]:
            raise LockLost(self._lost_message(held, "the session no longer holds it"))

    def _lost_message(self, held: LockInfo, why: str) -> str:
        return (f"lost the lock {held.id} on {self.describe()} ({why}): it was force-unlocked or its "
                f"connection dropped, and another run may hold it now. This run makes no further API "
                f"change; re-run when no other run holds the lock (the journal resolves what was in flight)")

    def _lock_holder_pid(self) -> int | None:
        """The server pid of the session holding this workspace's advisory lock, if any."""
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        row = self._run("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND classid = %s AND objid = %s AND objsubid = 1",
                        (unsigned >> 32, unsigned & 0xFFFFFFFF)).fetchone()
        return int(row[0]) if row else None

    def _recorded_holder(self) -> LockInfo | None:
        row = self._run("SELECT lock_info FROM bria_state WHERE workspace = %s", (self.workspace,)).fetchone()
        return LockInfo.from_dict(row[0]) if row and row[0] else None

    def _current_holder(self) -> LockInfo | None:
        """The recorded holder, if it is the session that really holds the lock now."""
        recorded, pid = self._recorded_holder(), self._lock_holder_pid()
        if recorded is None or pid is None or recorded.extra.get("backend_pid") != pid:
            return None
        return recorded

    def force_unlock(self, lock_id: str) -> None:
        recorded, pid = self._recorded_holder(), self._lock_holder_pid()
        if pid is None:
            if recorded is not None and recorded.id == lock_id:
                self._clear_lock_info(lock_id)   # stale info of a session that already ended
                return
            raise StateError(f"{self.describe()} is not locked; nothing to unlock (the server releases a "
                             f"session lock as soon as its connection ends)")
        if recorded is None or recorded.extra.get("backend_pid") != pid:
            raise StateError(f"refusing: {self.describe()} is locked by server session {pid}, which has not "
                             f"recorded itself; retry in a moment")
        if recorded.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current {recorded.describe()}")
        if not self._run("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]:
            raise StateError(f"could not terminate server session {pid} holding {recorded.describe()}")
        deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
        while self._lock_holder_pid() == pid:
            if time.monotonic() >= deadline:
                raise StateError(f"server session {pid} was told to end but still holds the lock")
            time.sleep(POLL_SECONDS)
        self._clear_lock_info(lock_id)

    def _clear_lock_info(self, lock_id: str) -> None:
        self._run("UPDATE bria_state SET lock_info = NULL WHERE workspace = %s AND lock_info->>'id' = %s",
                  (self.workspace, lock_id))

    # --- reading and writing ------------------------------------------------------------

    def read(self) -> State | None:
        row = self._run("SELECT serial, state, octet_length(state::text) FROM bria_state WHERE workspace = %s",
                        (self.workspace,)).fetchone()
        if row is None or row[1] is None:
            self._seen_serial, self._head = 0, None
            self._snapshot_serial = self._snapshot_bytes = self._changes_bytes = 0
            self._marked = False
            return None
        document, snapshot_serial = row[1], row[1].get("serial", 0)
        changes = self._run("SELECT change, octet_length(change::text) FROM bria_state_changes "
                            "WHERE workspace = %s AND serial > %s ORDER BY serial",
                            (self.workspace, snapshot_serial)).fetchall()
        if changes:
            try:
                document = replay(document, [change for change, _ in changes])
            except (ChangeError, AttributeError, KeyError, TypeError, ValueError) as exc:
                raise StateError(f"{self.describe()}: the stored changes do not apply to the state: {exc}") from exc
        state = decode_state(document, self.describe())
        self._seen_serial, self._head, self._snapshot_serial = state.serial, state, snapshot_serial
        self._snapshot_bytes = 0 if changes else row[2]   # 0: the first write folds the changes
        self._changes_bytes = sum(size for _, size in changes)
        self._marked = has_pending_mark(row[1])
        return state

    def write(self, state: State) -> State:
        """Persist with serial = max(state.serial, serial read) + 1, as a compare-and-swap on
        the serial read (or `state.serial` if this store read nothing)."""
        base = self._seen_serial if self._seen_serial is not None else state.serial
        new = replace(state, lineage=state.lineage or str(uuid.uuid4()), serial=max(state.serial, base) + 1)
        if self._can_append(new, base) and not self._marked:
            self._write_snapshot(new, base, marked=True)   # the mark first, then changes after it
        elif self._can_append(new, base):
            assert self._head is not None
            self._append_change(encode_change(self._head, new), new.serial)
        else:
            self._write_snapshot(new, base)
        self._seen_serial, self._head = new.serial, new
        return new

    def _can_append(self, new: State, base: int) -> bool:
        """Append a change row rather than rewrite the document: only while holding the lock
        (unlock folds them) and per `should_append`."""
        head = self._head
        return (self._held is not None and head is not None and head.serial == base
                and new.serial == base + 1 and new.lineage == head.lineage
                and should_append(self._snapshot_bytes, self._changes_bytes))

    def _append_change(self, change: str, serial: int) -> None:
        conn = self._connection()
        try:
            with conn.transaction():
                row = conn.execute("SELECT serial FROM bria_state WHERE workspace = %s FOR UPDATE",
                                   (self.workspace,)).fetchone()
                if row is None or row[0] != self._snapshot_serial:
                    raise SerialConflict(f"{self.describe()} changed behind this run: serial is "
                                         f"{row[0] if row else 'gone'}; nothing was overwritten")
                conn.execute("INSERT INTO bria_state_changes (workspace, serial, change) VALUES (%s, %s, %s::jsonb)",
                             (self.workspace, serial, change))
        except psycopg.errors.UniqueViolation as exc:
            raise SerialConflict(f"{self.describe()} changed behind this run: change {serial} was already "
                                 f"written; nothing was overwritten") from exc
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        self._changes_bytes += len(change)

    def _write_snapshot(self, new: State, base: int, marked: bool = False) -> None:
        """Replace the document (CAS on the snapshot serial, no change row after `base`)
        and delete the changes it includes, in one transaction. `marked`: with the
        pending-changes mark, as the snapshot that change rows will follow."""
        text = self._encoder.encode(replace(new, format_version=PENDING_CHANGES_FORMAT_VERSION) if marked else new)
        conn = self._connection()
        try:
            with conn.transaction():
                done = self._swap_snapshot(conn, new, text, base)
                if done:
                    conn.execute("DELETE FROM bria_state_changes WHERE workspace = %s", (self.workspace,))
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        if not done:
            row = self._run("SELECT serial FROM bria_state WHERE workspace = %s", (self.workspace,)).fetchone()
            raise SerialConflict(f"{self.describe()} changed behind this run: serial is "
                                 f"{row[0] if row else 'gone'}, this run last saw {base}; nothing was overwritten")
        self._snapshot_serial, self._snapshot_bytes, self._changes_bytes = new.serial, len(text), 0
        self._marked = marked

    def _swap_snapshot(self, conn: psycopg.Connection, new: State, text: str, base: int) -> bool:
        later = conn.execute("SELECT max(serial) FROM bria_state_changes WHERE workspace = %s",
                             (self.workspace,)).fetchone()[0]
        if later is not None and later > base:
            return False
        snapshot = self._snapshot_serial if later is not None and self._head is not None else base
        done = conn.execute("UPDATE bria_state SET lineage = %s, serial = %s, state = %s::jsonb, updated_at = now() "
                            "WHERE workspace = %s AND serial = %s",
                            (new.lineage, new.serial, text, self.workspace, snapshot)).rowcount == 1
        if not done and base == 0:
            done = conn.execute("INSERT INTO bria_state (workspace, lineage, serial, state) "
                                "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (workspace) DO NOTHING",
                                (self.workspace, new.lineage, new.serial, text)).rowcount == 1
        return done
