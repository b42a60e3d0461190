"""PostgreSQL-only behaviour against a real server: the first-insert race, workspaces,
force-unlock by session termination, a holder that lost its session, secrets in messages.
The behaviour shared with the local backend is in test_state_contract.py."""

from __future__ import annotations

import psycopg
import pytest
from fixtures_state import make_sample_state

from reconciler.state.model import State
from reconciler.state.postgres import PostgresStateStore, advisory_key
from reconciler.state.store import SerialConflict, StateError

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
