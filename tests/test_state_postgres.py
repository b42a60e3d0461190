"""The PostgreSQL backend against a real server: CAS writes, the session advisory lock
across processes, crash release, lock_timeout, force-unlock."""

from __future__ import annotations

import signal
import threading
import time

import psycopg
import pytest
from fixtures_state import make_sample_state

from reconciler.state.model import ProjectRecord, State
from reconciler.state.postgres import PostgresStateStore, advisory_key
from reconciler.state.store import SerialConflict, StateError, StateLocked

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_dsn: str, pg_workspace: str):
    made: list[PostgresStateStore] = []

    def make(**kwargs) -> PostgresStateStore:
        made.append(PostgresStateStore(pg_dsn, pg_workspace, **kwargs))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_round_trip_serial_and_lineage(store) -> None:
    writer = store()
    assert writer.read() is None
    one = writer.write(make_sample_state())
    two = writer.write(one.with_resource("project.extra", ProjectRecord(5)))
    assert (one.serial, two.serial, two.lineage) == (1, 2, one.lineage)
    assert store().read() == two


def test_empty_lineage_gets_a_uuid(store) -> None:
    writer = store()
    writer.read()
    assert len(writer.write(State(lineage="")).lineage) == 36


def test_cas_conflict_leaves_the_winner_in_place(store) -> None:
    first, second = store(), store()
    first.read()
    base = first.write(make_sample_state())
    assert second.read() == base
    winner = first.write(base.with_resource("project.a", ProjectRecord(2)))
    with pytest.raises(SerialConflict, match="serial is 2"):
        second.write(base.with_resource("project.b", ProjectRecord(3)))
    assert store().read() == winner


def test_first_insert_race_conflicts(store) -> None:
    first, second = store(), store()
    assert first.read() is None and second.read() is None
    first.write(State.empty())
    with pytest.raises(SerialConflict):
        second.write(State.empty())


def test_workspaces_are_independent(pg_dsn: str, store) -> None:
    mine = store()
    other = PostgresStateStore(pg_dsn, mine.workspace + "-other")
    try:
        mine.lock("apply")
        other.lock("apply")
        other.read()
        other.write(State.empty())
        assert mine.read() is None
    finally:
        other.close()
    assert advisory_key("a") != advisory_key("b") and advisory_key("a") == advisory_key("a")


def test_second_locker_is_refused_naming_the_holder(pg_dsn, pg_workspace, store, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace},
                                     label="apply")
    started = time.monotonic()
    with pytest.raises(StateLocked) as err:
        store().lock("plan")
    assert time.monotonic() - started < 1.0
    assert err.value.holder is not None
    assert err.value.holder.id == holder.lock_id and err.value.holder.pid == holder.process.pid
    assert "test-holder apply" in str(err.value) and pg_workspace in str(err.value)


def test_sigkilled_holder_releases_the_lock(pg_dsn, pg_workspace, store, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace})
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    # The server notices the dropped connection within moments; no manual step.
    info = store().lock("apply", timeout=5.0)
    assert info.command == "apply"


def test_lock_timeout_waits_for_release(pg_dsn, pg_workspace, store, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace})
    release_later = threading.Timer(0.5, holder.release)
    release_later.start()
    started = time.monotonic()
    try:
        info = store(lock_timeout=5.0).lock("apply")
    finally:
        release_later.join()
    assert info.command == "apply" and 0.4 < time.monotonic() - started < 5.0


def test_lock_timeout_expires(pg_dsn, pg_workspace, store, hold_lock_in_subprocess) -> None:
    hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace})
    started = time.monotonic()
    with pytest.raises(StateLocked):
        store().lock("apply", timeout=0.4)
    assert 0.35 < time.monotonic() - started < 3.0


def test_unlock_then_relock_and_state_survives(store) -> None:
    first = store()
    first.lock("apply")
    first.read()
    written = first.write(make_sample_state())
    first.unlock()
    second = store()
    second.lock("apply")
    assert second.read() == written


def test_force_unlock_terminates_the_matching_holder(pg_dsn, pg_workspace, store, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "postgres", "dsn": pg_dsn, "workspace": pg_workspace})
    admin = store()
    with pytest.raises(StateError, match="does not match"):
        admin.force_unlock("wrong-id")
    admin.force_unlock(holder.lock_id)
    after = store()
    assert after.lock("apply").command == "apply"
    after.unlock()
    with pytest.raises(StateError, match="not locked"):
        store().force_unlock("anything")


def test_holder_whose_session_was_terminated_cannot_write(store) -> None:
    victim = store()
    info = victim.lock("apply")
    victim.read()
    state = victim.write(State.empty())
    store().force_unlock(info.id)
    with pytest.raises(StateError, match="lock"):
        victim.write(state)
    thief = store()
    thief.lock("apply")
    assert thief.read() == state


def test_bad_dsn_message_hides_the_password(pg_workspace: str) -> None:
    bad = PostgresStateStore("postgresql://bria:s3cret-pw@127.0.0.1:1/nope", pg_workspace, connect_timeout=2)
    with pytest.raises(StateError) as err:
        bad.read()
    assert "s3cret-pw" not in str(err.value) and "127.0.0.1:1/nope" in str(err.value)


def test_table_has_the_documented_columns(pg_dsn: str, store) -> None:
    store().read()
    with psycopg.connect(pg_dsn) as conn:
        columns = {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'bria_state'")}
    assert columns == {"workspace", "lineage", "serial", "state", "updated_at", "lock_info"}
