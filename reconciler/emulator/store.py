"""SQLite storage for the emulator: one implementation for memory and for a file.

Every read and write goes through `transaction()`, which holds one lock for the whole
transaction, so concurrent requests (threads or tasks) see consistent data. Transactions
are short: handlers do their slow work (decoding images) before opening one.

Image bytes are never stored — only their metadata (sha256, size, format) — so a dataset
of 200 × 2 MB images costs a few kilobytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256 TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    project_name TEXT NOT NULL,
    project_description TEXT,
    ip_name TEXT,
    ip_description TEXT,
    ip_medium TEXT NOT NULL,
    ip_type TEXT NOT NULL,
    training_version TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    caption_prefix TEXT,
    visual_schema TEXT,
    training_version TEXT,
    captions_status TEXT NOT NULL,
    captions_due_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_by_project ON datasets (project_id);
CREATE INDEX IF NOT EXISTS datasets_by_captions_due ON datasets (captions_due_at);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    image_name TEXT,
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format TEXT NOT NULL,
    caption TEXT,
    caption_source TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_dataset ON images (dataset_id);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    training_version TEXT NOT NULL,
    training_mode TEXT NOT NULL,
    training_parameters TEXT NOT NULL,
    generation_prefix TEXT,
    deleted_checkpoints TEXT NOT NULL DEFAULT '[]',
    training_started_at REAL,
    training_ends_at REAL,
    will_fail INTEGER NOT NULL DEFAULT 0,
    stop_requested_at REAL,
    stopped_at REAL,
    deleted_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS models_by_dataset ON models (dataset_id);
CREATE INDEX IF NOT EXISTS models_by_project ON models (project_id);
"""

# Columns added after the first data files were written: `Store` adds them to an older file
# (whose other columns keep their old constraints, so such a file stays legacy-only in
# practice: its caption_prefix and generation_prefix columns refuse NULL).
_ADDED_COLUMNS = (
    ("projects", "training_version", "TEXT"),
    ("datasets", "visual_schema", "TEXT"),
    ("datasets", "training_version", "TEXT"),
    ("models", "deleted_checkpoints", "TEXT NOT NULL DEFAULT '[]'"),
    ("models", "deleted_at", "REAL"),   # soft deletes
)

Row = sqlite3.Row
MAX_ID = 2**63 - 1


def is_storable_id(value: int) -> bool:
    """SQLite integers are 64-bit; a larger id (from a JSON body) names nothing that exists."""
    return -MAX_ID - 1 <= value <= MAX_ID


class Db:
    """The handle a transaction gives out: small helpers over one sqlite3 connection.

    Table and column names come from our own code, never from requests; values are always
    bound parameters.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
        return int(cursor.lastrowid)

    def update(self, table: str, row_id: int, values: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), row_id))

    def owned(self, table: str, org_id: int, row_id: int) -> Row | None:
        """The row with this id if it belongs to the organisation, else None (→ 404)."""
        if not is_storable_id(row_id):
            return None
        rows = self.query(f"SELECT * FROM {table} WHERE id = ? AND org_id = ?", (row_id, org_id))
        return rows[0] if rows else None

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self._conn.execute(sql, params).fetchone()[0])


class Store:
    """The emulator's database. `path=None` keeps everything in memory."""

    def __init__(self, path: Path | str | None) -> None:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        target = str(path) if path is not None else ":memory:"
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        if path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._add_missing_columns()
        self._org_cache: dict[str, int] = {}

    def _add_missing_columns(self) -> None:
        """A data file made by an older emulator lacks the columns added since."""
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Db]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Db(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def organisation(self, token: str) -> int:
        """The organisation id of a token, created on first use. Only a hash is stored."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        cached = self._org_cache.get(digest)
        if cached is not None:
            return cached
        with self.transaction() as db:
            rows = db.query("SELECT id FROM orgs WHERE token_sha256 = ?", (digest,))
            org_id = rows[0]["id"] if rows else db.insert("orgs", {"token_sha256": digest})
        self._org_cache[digest] = org_id
        return org_id

    def close(self) -> None:
        with self._lock:
            self._conn.close()
