"""Fixtures for state stores: a real PostgreSQL server, workspaces, and a store factory
parametrised over both backends (for any test that should run on local and postgres).

    def test_x(state_store_factory):
        store = state_store_factory()          # a new store object on the same state each call
        state_store_factory.backend            # "local" | "postgres"
        state_store_factory.state_config       # StateConfig naming that state
        state_store_factory.env                # env vars open_store needs (the DSN variable)

`pg_dsn` uses BRIA_TEST_PG_DSN if set, else starts a throwaway server with `pgserver`
once per session. `hold_lock_in_subprocess` starts another process that takes the lock
and keeps it until killed or told to release it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from reconciler.model import StateConfig

PG_DSN_ENV_FOR_TESTS = "BRIA_TEST_PG_DSN"
PG_DSN_ENV = "BRIA_PG_DSN"           # the default StateConfig.dsn_env


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    given = os.environ.get(PG_DSN_ENV_FOR_TESTS)
    if given:
        yield given
        return
    pgserver = pytest.importorskip("pgserver", reason="needs BRIA_TEST_PG_DSN or the pgserver package")
    # Not under pytest's basetemp: as root, pgserver runs the server as another user, and every
    # pytest start resets /tmp/pytest-of-<user> to mode 0700, locking that user out.
    data_dir = Path(tempfile.mkdtemp(prefix="bria-pg-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def pg_workspace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@dataclass
class StoreFactory:
    """Makes store objects that all point at one test's state."""

    backend: str
    state_config: StateConfig
    env: dict[str, str] = field(default_factory=dict)
    made: list[Any] = field(default_factory=list)

    def __call__(self, *, lock_timeout: float = 0.0) -> Any:
        from reconciler.state.local import LocalStateStore
        from reconciler.state.postgres import PostgresStateStore

        if self.backend == "local":
            store: Any = LocalStateStore(self.state_config.path, lock_timeout=lock_timeout)
        else:
            store = PostgresStateStore(self.env[self.state_config.dsn_env], self.state_config.workspace,
                                       lock_timeout=lock_timeout)
        self.made.append(store)
        return store

    def spec(self) -> dict[str, str]:
        """What `hold_lock_in_subprocess` needs to open the same state in another process."""
        if self.backend == "local":
            return {"backend": "local", "path": str(self.state_config.path)}
        return {"backend": "postgres", "dsn": self.env[self.state_config.dsn_env],
                "workspace": self.state_config.workspace}

    def close_all(self) -> None:
        for store in self.made:
            store.close()


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    if request.param == "local":
        factory = StoreFactory("local", StateConfig(backend="local", path=tmp_path / "state" / "test.json"))
    else:
        dsn = request.getfixturevalue("pg_dsn")
        workspace = request.getfixturevalue("pg_workspace")
        factory = StoreFactory("postgres", StateConfig(backend="postgres", path=tmp_path / "state" / "test.json",
                                                       dsn_env=PG_DSN_ENV, workspace=workspace),
                               env={PG_DSN_ENV: dsn})
    yield factory
    factory.close_all()


_HOLDER_SCRIPT = """
import json, os, sys, time
spec = json.loads(os.environ["BRIA_TEST_STORE_SPEC"])
if spec["backend"] == "local":
    from reconciler.state.local import LocalStateStore
    store = LocalStateStore(spec["path"])
else:
    from reconciler.state.postgres import PostgresStateStore
    store = PostgresStateStore(spec["dsn"], spec["workspace"])
info = store.lock("test-holder " + spec.get("label", ""))
print("LOCKED " + info.id, flush=True)
sys.stdin.readline()          # hold until the parent closes stdin (or kills us)
store.unlock()
print("RELEASED", flush=True)
"""


@dataclass
class LockHolder:
    process: subprocess.Popen
    lock_id: str

    def release(self) -> None:
        """Ask the holder to unlock and exit; waits for it."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def hold_lock_in_subprocess() -> Iterator[Any]:
    """`hold(spec, label="") -> LockHolder`: another process holding the state's lock."""
    started: list[subprocess.Popen] = []

    def hold(spec: dict[str, str], label: str = "") -> LockHolder:
        env = dict(os.environ, BRIA_TEST_STORE_SPEC=json.dumps({**spec, "label": label}))
        process = subprocess.Popen([sys.executable, "-c", _HOLDER_SCRIPT], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("LOCKED "):
            process.kill()
            raise AssertionError(f"lock holder failed: {line!r} {process.stderr.read() if process.stderr else ''}")
        return LockHolder(process, line.split()[1])

    yield hold
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def make_sample_state(datasets: int = 1, images: int = 3, lineage: str = "") -> Any:
    """A State using every record type and field (journal included)."""
    import hashlib

    from reconciler.state.model import (DatasetRecord, DatasetVersion, ImageRecord, JournalEntry, ModelRecord,
                                        ProjectRecord, State, SupersededModel)

    def image_map(salt: str) -> dict[str, ImageRecord]:
        return {hashlib.sha256(f"{salt}-{i}".encode()).hexdigest():
                ImageRecord(1000 + i, f"{i:016x}-img{i}.png", f"caption {i}" if i % 2 else None,
                            "manual" if i % 2 else "automatic")
                for i in range(images)}

    dataset_records = {
        f"ds{j}": DatasetRecord("luna", (
            DatasetVersion(10 + j, f"Set {j}", "completed", "An illustration of Luna, ", image_map(f"{j}a")),
            DatasetVersion(50 + j, f"Set {j}", "draft", None, image_map(f"{j}b"))),
            pinned_prefix="An illustration of Luna, " if j == 0 else None)
        for j in range(datasets)}
    model = ModelRecord(7, "ds0", 50, "Luna max", None, "max", "expert", {"rank": 16}, "InProgress", "Luna, ",
                        (SupersededModel(6, 10, "light", "fully_automated", "Completed",
                                         "replace_because_dataset_changed"),))
    return State(lineage=lineage or "3f1c2d4e-0000-4000-8000-000000000001", serial=0,
                 projects={"luna": ProjectRecord(1, {"name": "StoryCharacter_Luna", "ip_type": "defined_character",
                                                     "description": None})},
                 datasets=dataset_records, models={"luna_max": model},
                 journal=(JournalEntry("j1", "upload_image", "dataset.ds0", "0000000000000001-x.png", 50,
                                       {"sha256": "ab" * 32}, "2024-05-01T10:00:00+00:00"),))


@pytest.fixture
def sample_state() -> Any:
    return make_sample_state()
