"""The StateStore contract (reconciler/state/store.py), run against both backends."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from fixtures_state import make_sample_state

from reconciler.state import open_store
from reconciler.state.model import ProjectRecord, State
from reconciler.state.store import SerialConflict, StateLocked


def test_read_write_round_trip_keeps_lineage_and_counts_serial(state_store_factory) -> None:
    store = state_store_factory()
    assert store.read() is None
    one = store.write(make_sample_state())
    two = store.write(one.with_resource("project.extra", ProjectRecord(5)))
    assert (one.serial, two.serial, two.lineage) == (1, 2, one.lineage)
    assert state_store_factory().read() == two


def test_empty_lineage_gets_a_uuid(state_store_factory) -> None:
    store = state_store_factory()
    store.read()
    assert len(store.write(State(lineage="")).lineage) == 36


def test_concurrent_writer_gets_serial_conflict_and_nothing_is_overwritten(state_store_factory) -> None:
    first, second = state_store_factory(), state_store_factory()
    first.read()
    base = first.write(make_sample_state())
    assert second.read() == base
    winner = first.write(base.with_resource("project.a", ProjectRecord(2)))
    with pytest.raises(SerialConflict):
        second.write(base.with_resource("project.b", ProjectRecord(3)))
    assert state_store_factory().read() == winner


def test_writing_over_a_state_never_read_conflicts(state_store_factory) -> None:
    store = state_store_factory()
    store.read()
    store.write(make_sample_state())
    with pytest.raises(SerialConflict):
        state_store_factory().write(State.empty())


def test_open_store_builds_the_factory_backend(state_store_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in state_store_factory.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    direct = state_store_factory()
    direct.read()
    written = direct.write(make_sample_state())
    opened = open_store(state_store_factory.state_config)
    try:
        assert opened.read() == written
    finally:
        opened.close()


def test_a_locked_state_refuses_another_process_naming_it(state_store_factory, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess(state_store_factory.spec(), label="apply")
    started = time.monotonic()
    with pytest.raises(StateLocked) as err:
        state_store_factory().lock("plan")
    assert time.monotonic() - started < 3.0   # refused without waiting (default timeout 0); slack for CI
    assert err.value.holder is not None
    assert (err.value.holder.id, err.value.holder.pid) == (holder.lock_id, holder.process.pid)
    assert "test-holder apply" in str(err.value)


def test_a_sigkilled_holder_leaves_no_lock(state_store_factory, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess(state_store_factory.spec())
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    # Local: free at once. PostgreSQL: free as soon as the server sees the connection drop.
    wait = 0.0 if state_store_factory.backend == "local" else 5.0
    started = time.monotonic()
    info = state_store_factory().lock("apply", timeout=wait)
    assert info.pid == os.getpid() and time.monotonic() - started < 4.0   # below the 5 s wait; slack for CI


def test_lock_timeout_waits_until_the_holder_releases(state_store_factory, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess(state_store_factory.spec())
    release_later = threading.Timer(0.5, holder.release)
    release_later.start()
    started = time.monotonic()
    try:
        info = state_store_factory(lock_timeout=5.0).lock("apply")
    finally:
        release_later.join()
    assert info.command == "apply" and 0.4 < time.monotonic() - started < 5.0


def test_lock_timeout_expires_with_state_locked(state_store_factory, hold_lock_in_subprocess) -> None:
    hold_lock_in_subprocess(state_store_factory.spec())
    started = time.monotonic()
    with pytest.raises(StateLocked):
        state_store_factory().lock("apply", timeout=0.4)
    assert 0.35 < time.monotonic() - started < 3.0


def test_two_stores_in_one_process_exclude_each_other(state_store_factory) -> None:
    first, second = state_store_factory(), state_store_factory()
    first.lock("apply")
    with pytest.raises(StateLocked) as err:
        second.lock("plan")
    assert err.value.holder is not None and err.value.holder.command == "apply"
    first.unlock()
    assert second.lock("plan").command == "plan"


def test_lock_read_write_unlock_as_a_run_does(state_store_factory) -> None:
    run = state_store_factory()
    run.lock("apply")
    state = run.read() or State.empty()
    for i in range(5):
        state = run.write(state.with_resource(f"project.p{i}", ProjectRecord(i)))
    run.unlock()
    later = state_store_factory()
    later.lock("plan")
    assert later.read() == state and state.serial == 5
