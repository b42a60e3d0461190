"""`bria state list | rm | push | pull` and `bria force-unlock`, run through the real CLI."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixtures_state import make_sample_state

from reconciler.cli import main
from reconciler.cli.exitcodes import ERROR, LOCKED, OK
from reconciler.state.local import LocalStateStore
from reconciler.state.model import State
from reconciler.state.postgres import PostgresStateStore


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a manifest whose state is state/luna.json (local by default)."""
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    (tmp_path / "bria.yaml").write_text("version: 1\nstate:\n  path: state/luna.json\n  workspace: cli-test\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def bria(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def seed(path: Path, state: State | None = None) -> State:
    store = LocalStateStore(path)
    store.read()
    return store.write(state or make_sample_state(datasets=2))


def test_list_prints_addresses_with_remote_ids(project: Path) -> None:
    seed(project / "state" / "luna.json")
    result = bria("state", "list")
    assert result.exit_code == OK
    assert result.stdout.splitlines() == [
        "project.luna\t1",
        "dataset.ds0\t50\tolder versions: 10",
        "dataset.ds1\t51\tolder versions: 11",
        "model.luna_max\t7\tsuperseded: 6",
    ]
    assert "1 pending operation(s) in the journal" in result.stderr


def test_list_of_no_state_says_so(project: Path) -> None:
    result = bria("state", "list")
    assert result.exit_code == OK and result.stdout == "" and "No state yet" in result.stderr


def test_rm_forgets_without_touching_anything_else(project: Path) -> None:
    path = project / "state" / "luna.json"
    before = seed(path)
    result = bria("state", "rm", "dataset.ds0", "model.luna_max")
    assert result.exit_code == OK, result.output
    assert "Removed dataset.ds0 (remote id 10, 50) from the state" in result.stdout
    assert "Removed model.luna_max (remote id 7)" in result.stdout
    after = LocalStateStore(path).read()
    assert after is not None
    assert after.addresses() == ["project.luna", "dataset.ds1"]
    assert after.serial == before.serial + 1 and after.lineage == before.lineage
    assert after.journal == ()               # the journal entry was for dataset.ds0
    assert not (path.parent / "luna.json.lock").read_text()   # lock released


def test_rm_warns_about_records_that_still_point_at_the_removed_one(project: Path) -> None:
    seed(project / "state" / "luna.json")
    result = bria("state", "rm", "project.luna")
    assert result.exit_code == OK
    assert "dataset.ds0 still belongs to project.luna" in result.stderr


@pytest.mark.parametrize("addr, message", [("dataset.nope", "not in the state: dataset.nope"),
                                           ("nonsense", "not a resource address")])
def test_rm_of_an_unknown_address_fails_and_changes_nothing(project: Path, addr: str, message: str) -> None:
    path = project / "state" / "luna.json"
    before = seed(path)
    result = bria("state", "rm", addr)
    assert result.exit_code == ERROR and message in result.stderr
    assert LocalStateStore(path).read() == before


def test_rm_while_another_run_holds_the_lock_exits_3_naming_it(project: Path, hold_lock_in_subprocess) -> None:
    path = project / "state" / "luna.json"
    before = seed(path)
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(path)}, label="apply")
    result = bria("state", "rm", "project.luna")
    assert result.exit_code == LOCKED
    assert f"held by pid {holder.process.pid}" in result.stderr and holder.lock_id in result.stderr
    assert "--lock-timeout" in result.stderr
    assert LocalStateStore(path).read() == before


def test_rm_with_lock_timeout_waits_for_the_holder(project: Path, hold_lock_in_subprocess) -> None:
    path = project / "state" / "luna.json"
    seed(path)
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(path)})
    release_later = threading.Timer(0.4, holder.release)
    release_later.start()
    started = time.monotonic()
    try:
        result = bria("state", "rm", "--lock-timeout", "5", "model.luna_max")
    finally:
        release_later.join()
    assert result.exit_code == OK, result.output
    assert time.monotonic() - started >= 0.35      # it waited for the release (a lower bound: cannot flake)
    after = LocalStateStore(path).read()
    assert after is not None and "model.luna_max" not in after.addresses()   # and then did the removal


def test_pull_prints_the_state_file_text(project: Path) -> None:
    path = project / "state" / "luna.json"
    seed(path)
    result = bria("state", "pull")
    assert result.exit_code == OK and result.stdout == path.read_text()


def test_pull_of_no_state_fails(project: Path) -> None:
    result = bria("state", "pull")
    assert result.exit_code == ERROR and "no state stored" in result.stderr


def test_push_a_newer_file_into_the_local_backend(project: Path, tmp_path: Path) -> None:
    target = project / "state" / "luna.json"
    base = seed(target)
    newer = tmp_path / "newer.json"
    seed(newer, State.from_dict({**base.to_dict(), "serial": 5}))           # → serial 6
    result = bria("state", "push", str(newer))
    assert result.exit_code == OK, result.output
    assert LocalStateStore(target).read().serial == 7                      # max(6, 1) + 1
    assert "now serial 7" in result.stdout


def test_push_refuses_same_serial_and_other_lineage_unless_forced(project: Path, tmp_path: Path) -> None:
    target = project / "state" / "luna.json"
    seed(target)
    other = tmp_path / "other.json"
    seed(other, make_sample_state(lineage="00000000-0000-4000-8000-00000000abcd"))
    result = bria("state", "push", str(other))
    assert result.exit_code == ERROR and "different states" in result.stderr
    copy_path = tmp_path / "copy.json"
    copy_path.write_text(target.read_text())
    result = bria("state", "push", str(copy_path))
    assert result.exit_code == ERROR and "not newer" in result.stderr
    result = bria("state", "push", "--force", str(other))
    assert result.exit_code == OK
    assert LocalStateStore(target).read().lineage == "00000000-0000-4000-8000-00000000abcd"


def test_push_of_a_corrupt_file_names_it(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = bria("state", "push", str(bad))
    assert result.exit_code == ERROR and str(bad) in result.stderr and "corrupt" in result.stderr


def test_force_unlock_local_refuses_a_live_holder_and_clears_a_dead_one(project: Path,
                                                                        hold_lock_in_subprocess) -> None:
    path = project / "state" / "luna.json"
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(path)})
    result = bria("force-unlock", holder.lock_id)
    assert result.exit_code == ERROR and "still running" in result.stderr and "kernel" in result.stderr
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    result = bria("force-unlock", holder.lock_id)
    assert result.exit_code == OK and f"lock {holder.lock_id}" in result.stdout


# --- the same commands against PostgreSQL ------------------------------------------------------


@pytest.mark.postgres
def test_move_local_state_to_postgres_with_push_then_pull(project: Path, pg_dsn: str, pg_workspace: str) -> None:
    (project / "bria.yaml").write_text(f"version: 1\nstate:\n  path: state/luna.json\n  workspace: {pg_workspace}\n")
    local = project / "state" / "luna.json"
    written = seed(local)
    env = {"BRIA_PG_DSN": pg_dsn}
    result = bria("state", "push", "--state-backend", "postgres", str(local), env=env)
    assert result.exit_code == OK, result.output
    pulled = bria("state", "pull", env={**env, "BRIA_STATE_BACKEND": "postgres"})
    assert pulled.exit_code == OK
    document = json.loads(pulled.stdout)
    assert document["lineage"] == written.lineage and document["serial"] == written.serial + 1
    assert document["resources"] == written.to_dict()["resources"]
    again = bria("state", "push", "--state-backend", "postgres", str(local), env=env)
    assert again.exit_code == ERROR and "not newer" in again.stderr
    listed = bria("state", "list", "--state-backend", "postgres", env=env)
    assert "model.luna_max\t7" in listed.stdout


@pytest.mark.postgres
def test_postgres_locked_and_force_unlock(project: Path, pg_dsn: str, pg_workspace: str,
                                          hold_lock_in_subprocess) -> None:
    (project / "bria.yaml").write_text(f"version: 1\nstate:\n  backend: postgres\n  workspace: {pg_workspace}\n")
    env = {"BRIA_PG_DSN": pg_dsn}
    store = PostgresStateStore(pg_dsn, pg_workspace)
    store.read()
    store.write(make_sample_state())
    store.close()
    holder = hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace})
    result = bria("state", "rm", "project.luna", env=env)
    assert result.exit_code == LOCKED and holder.lock_id in result.stderr
    result = bria("force-unlock", holder.lock_id, env=env)
    assert result.exit_code == OK, result.output
    result = bria("state", "rm", "project.luna", env=env)
    assert result.exit_code == OK and "Removed project.luna" in result.stdout


def test_postgres_without_the_dsn_variable_names_it(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIA_PG_DSN", raising=False)
    result = bria("state", "list", "--state-backend", "postgres")
    assert result.exit_code == ERROR and "BRIA_PG_DSN" in result.stderr
