"""State writes during a run append changes (state/changes.py) instead of rewriting the
state: the bytes stored per write do not grow with the state or the journal, a reader sees
every change, a crash mid-append loses only the write that did not return, and unlock
folds the changes back into one document. Both backends."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fixtures_state import make_sample_state

from reconciler.state import changes as state_changes
from reconciler.state.local import LocalStateStore
from reconciler.state.model import ImageRecord, JournalEntry, ModelRecord, ProjectRecord, State
from reconciler.state.store import SerialConflict, StateError


def _stored_bytes(factory: Any) -> tuple[Any, int]:
    """(snapshot identity, bytes of snapshot + changes) as the backend stores them now."""
    if factory.backend == "local":
        path = Path(factory.state_config.path)
        changes = path.with_name(path.name + ".changes")
        st = path.stat()
        return (st.st_ino, st.st_mtime_ns), st.st_size + (changes.stat().st_size if changes.exists() else 0)
    import psycopg

    with psycopg.connect(factory.env[factory.state_config.dsn_env], autocommit=True) as conn:
        workspace = factory.state_config.workspace
        serial, size = conn.execute("SELECT serial, octet_length(state::text) FROM bria_state WHERE workspace = %s",
                                    (workspace,)).fetchone()
        changes = conn.execute("SELECT coalesce(sum(octet_length(change::text)), 0) FROM bria_state_changes "
                               "WHERE workspace = %s", (workspace,)).fetchone()[0]
    return serial, size + int(changes)


def _format_version(factory: Any) -> int:
    """The format_version of the stored snapshot, as a reader of the snapshot alone sees it."""
    if factory.backend == "local":
        return json.loads(Path(factory.state_config.path).read_text(encoding="utf-8"))["format_version"]
    import psycopg

    with psycopg.connect(factory.env[factory.state_config.dsn_env], autocommit=True) as conn:
        return conn.execute("SELECT state->'format_version' FROM bria_state WHERE workspace = %s",
                            (factory.state_config.workspace,)).fetchone()[0]


def _entry(i: int) -> JournalEntry:
    return JournalEntry(f"entry-{i:06d}", "upload_image", "dataset.ds0", f"{i:016x}-img.png", 50,
                        {"sha256": f"{i:064x}"}, "2024-05-01T10:00:00+00:00")


def test_bytes_per_write_do_not_grow_with_pending_journal_entries(state_store_factory) -> None:
    """Apply's pattern: pending upload entries pile up (one more per write), then resolve.
    Each write stores the same few hundred bytes whether 10 or 600 entries are pending; a
    whole-document write would store the full state (~300 KB here) every time."""
    store = state_store_factory()
    store.lock("apply")
    store.read()
    state = store.write(make_sample_state(datasets=6, images=100))
    assert _format_version(state_store_factory) == 2
    # The first write that may append rewrites the snapshot once more, with the mark that
    # tells a bria predating changes to refuse it rather than read it without them.
    state = store.write(state.with_journal_entry(_entry(999_999)))
    assert _format_version(state_store_factory) == 3
    snapshot, _ = _stored_bytes(state_store_factory)
    sizes: list[int] = []
    for i in range(600):
        before = _stored_bytes(state_store_factory)[1]
        state = store.write(state.with_journal_entry(_entry(i)))
        now_snapshot, after = _stored_bytes(state_store_factory)
        assert now_snapshot == snapshot, f"write {i} rewrote the whole state"
        sizes.append(after - before)
    early, late = sum(sizes[:10]) / 10, sum(sizes[-10:]) / 10
    assert 100 < early < 400 and abs(late - early) <= 2, (early, late)
    # resolving an entry while 600 are pending is as small, and records the image
    version = state.datasets["ds0"].current
    grown = replace(version, images={**version.images, "f" * 64: ImageRecord(9999, "ffff-new.png", "c", "manual")})
    before = _stored_bytes(state_store_factory)[1]
    state = store.write(state.without_journal_entry("entry-000300").with_resource(
        "dataset.ds0", state.datasets["ds0"].with_current(grown)))
    assert _stored_bytes(state_store_factory)[1] - before < 400
    assert state_store_factory().read() == state            # a reader replays the changes
    assert _format_version(state_store_factory) == 3
    store.unlock()                                          # unlock folds them into one document
    assert _stored_bytes(state_store_factory)[0] != snapshot
    assert state_store_factory().read() == state
    assert _format_version(state_store_factory) == 2      # one plain document again


def test_every_kind_of_change_replays_exactly(state_store_factory) -> None:
    store = state_store_factory()
    store.lock("apply")
    store.read()
    state = store.write(make_sample_state(datasets=4, images=100))
    ds1 = state.datasets["ds1"]
    first = ds1.versions[0]
    steps = [
        lambda s: s.with_resource("project.extra", ProjectRecord(77, {"name": "x"})),
        lambda s: s.with_journal_entry(_entry(1)).with_journal_entry(_entry(2)),
        lambda s: s.without_journal_entry("j1").without_journal_entry("entry-000001"),
        lambda s: s.with_resource("dataset.ds1", replace(ds1, pinned_prefix="Luna, ", versions=(
            replace(first, status="draft", caption_prefix="p", images={
                k: (replace(r, caption="new") if i % 3 == 0 else r)
                for i, (k, r) in enumerate(first.images.items()) if i % 5}),
            *ds1.versions[1:]))),
        lambda s: s.with_resource("dataset.ds2", s.datasets["ds2"].with_current(
            replace(s.datasets["ds2"].current, remote_id=999, images={}))),
        lambda s: s.with_resource("dataset.ds3", replace(s.datasets["ds3"], versions=s.datasets["ds3"].versions[:1])),
        lambda s: s.with_resource("model.luna_max", replace(s.models["luna_max"], status="Completed")),
        lambda s: s.with_resource("model.other", ModelRecord(8, "ds1", 11, "o", None, "light", "fully_automated")),
        lambda s: s.with_resource("project.extra", None),
        lambda s: replace(s, journal=(_entry(5), *s.journal)),            # reordered: whole journal
    ]
    for step in steps:
        state = store.write(step(state))
        assert state_store_factory().read() == state
    store.unlock()
    assert state_store_factory().read() == state


def test_a_writer_that_bypassed_the_lock_stops_the_appender(state_store_factory) -> None:
    store = state_store_factory()
    store.lock("apply")
    store.read()
    state = store.write(make_sample_state(datasets=4, images=100))
    state = store.write(state.with_journal_entry(_entry(1)))
    intruder = state_store_factory()
    assert intruder.read() == state
    intruder.write(state.with_resource("project.intruder", ProjectRecord(5)))
    with pytest.raises(SerialConflict):
        store.write(state.with_journal_entry(_entry(2)))


_KILLED_APPENDER = """
import sys, pathlib
sys.path.insert(0, sys.argv[2])
from fixtures_state import make_sample_state
from reconciler.state import changes
from reconciler.state.local import LocalStateStore
from reconciler.state.model import ProjectRecord
store = LocalStateStore(pathlib.Path(sys.argv[1]))
store.lock("apply")
state = store.read() or make_sample_state(datasets=4, images=100)
state = store.write(state)
print(state.serial, flush=True)
for i in range(100000):
    state = store.write(state.with_resource("project.p", ProjectRecord(i)))
    if i == 50:
        print("appending", flush=True)
"""


@pytest.mark.parametrize("torn", [b"", b"0123abcd {\"serial\": 99", b"00000000 {}\n"])
def test_sigkill_while_appending_then_torn_tail_loses_nothing_returned(tmp_path: Path, torn: bytes) -> None:
    """A killed appender leaves a state + changes that read as complete; a torn last line
    (as a crash mid-append leaves) is ignored; the next run rewrites the file before it
    appends, and its unlock leaves one document."""
    path = tmp_path / "state" / "luna.json"
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_APPENDER, str(path), str(Path(__file__).parent)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    first_serial = int(writer.stdout.readline())
    assert writer.stdout.readline() == "appending\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    changes = path.with_name("luna.json.changes")
    assert changes.stat().st_size > 0
    with changes.open("ab") as f:
        f.write(torn)
    recovered = LocalStateStore(path).read()
    assert recovered is not None and recovered.serial > first_serial + 50
    assert recovered.projects["p"].remote_id == recovered.serial - first_serial - 1
    run = LocalStateStore(path)
    run.lock("apply")
    assert run.read() == recovered
    written = run.write(recovered.with_resource("project.q", ProjectRecord(1)))
    run.unlock()
    assert not changes.exists()
    assert json.loads(path.read_text()) == written.to_dict()


def test_a_damaged_change_followed_by_good_ones_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "state" / "luna.json"
    store = LocalStateStore(path)
    store.lock("apply")
    store.read()
    state = store.write(make_sample_state(datasets=4, images=100))
    for i in range(4):           # the first write marks the snapshot; three changes follow
        state = store.write(state.with_journal_entry(_entry(i)))
    changes = path.with_name("luna.json.changes")
    lines = changes.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b"entry-000001", b"entry-00000X")
    changes.write_bytes(b"\n".join(lines))
    with pytest.raises(StateError, match=r"luna\.json\.changes line 1 is damaged"):
        LocalStateStore(path).read()


def test_a_small_state_appends_too_and_is_one_document_after_the_run(tmp_path: Path, monkeypatch) -> None:
    """A small state is not rewritten per write (the snapshot stays the same file): its
    writes append until the changes pass the fold floor, then the snapshot is rewritten
    and the change file starts again; unlock leaves one document and no change file."""
    monkeypatch.setattr(state_changes, "FOLD_FLOOR_BYTES", 8 * 1024)   # a floor this test reaches fast
    path = tmp_path / "state" / "luna.json"
    changes_path = path.with_name("luna.json.changes")
    store = LocalStateStore(path)
    store.lock("apply")
    store.read()
    state: State = store.write(make_sample_state())
    state = store.write(state.with_journal_entry(_entry(999_999)))   # the pending-changes mark
    snapshot = path.stat().st_ino
    assert path.stat().st_size < 4 * 1024                        # small: the floor, not 2× it, rules
    for i in range(5):
        state = store.write(state.with_journal_entry(_entry(i)))
        assert path.stat().st_ino == snapshot, f"write {i} rewrote a small state"
        assert LocalStateStore(path).read() == state            # a reader replays the changes
    assert len(changes_path.read_bytes().splitlines()) == 5
    appended = changes_path.stat().st_size
    while path.stat().st_ino == snapshot:                        # until the changes pass the floor
        appended = changes_path.stat().st_size
        state = store.write(state.with_journal_entry(_entry(len(state.journal))))
    assert appended > 8 * 1024 - 400                             # not folded before the floor
    assert not changes_path.exists()                             # the fold dropped the changes
    for _ in range(2):                                           # mark the new snapshot, append
        state = store.write(state.with_journal_entry(_entry(len(state.journal))))
    assert changes_path.exists()                                 # and appending starts again
    store.unlock()
    assert json.loads(path.read_text()) == state.to_dict() and not changes_path.exists()


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [2, 12, 21])
def test_sigkill_during_an_apply_that_appends_converges_without_duplicates(
        kill_at, tmp_path, emulator_server, cli_backend, monkeypatch) -> None:
    """test_crash.py's scenario (kill at a call, kill again, run to the end: exactly the
    manifest's objects, a no-change plan) with every write of the run appending a change."""
    from fixtures_apply import run_bria
    from test_crash import CRASH_YAML, IMAGES, _scenario

    monkeypatch.setenv("BRIA_TEST_STATE_APPEND_ALWAYS", "1")
    url = emulator_server("--training-seconds", "600")
    # Positive control: a killed run of this kind does leave appended changes behind.
    probe = tmp_path / "probe"
    cli_backend.write_case(probe, CRASH_YAML, IMAGES)
    killed = run_bria("apply", "--auto-approve", cwd=probe, env={
        "BRIA_API_URL": url, "BRIA_API_TOKEN": f"probe-{kill_at}", "BRIA_TEST_KILL_AFTER_CALLS": "12",
        **cli_backend.env})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert _pending_changes(cli_backend, probe) > 0, (cli_backend.row(probe), killed.stdout, killed.stderr)
    _scenario(kill_at, kill_at, tmp_path, url, cli_backend)


def _pending_changes(backend: Any, root: Path) -> int:
    if backend.name == "local":
        changes = root / "state" / "bria.json.changes"
        return len(changes.read_bytes().splitlines()) if changes.exists() else 0
    import psycopg

    with psycopg.connect(backend.dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM bria_state_changes WHERE workspace = %s",
                            (backend.workspace(root),)).fetchone()[0]


def test_a_failed_append_makes_the_next_write_rewrite_the_state(tmp_path: Path) -> None:
    """A write cut short (here: it fails, then the torn bytes it could have left are added)
    must not be appended after: the next change would be glued to the torn line and read as
    damage. The next write rewrites the file instead, dropping the torn line."""
    path = tmp_path / "state" / "luna.json"
    store = LocalStateStore(path)
    store.lock("apply")
    store.read()
    state = store.write(make_sample_state(datasets=4, images=100))
    state = store.write(state.with_journal_entry(_entry(0)))      # the marked snapshot
    state = store.write(state.with_journal_entry(_entry(1)))      # the first change
    changes = path.with_name("luna.json.changes")
    aside = changes.with_name("aside")
    store._appender.close()                  # the next append reopens the path: make it unwritable
    changes.rename(aside)
    changes.mkdir()
    try:
        with pytest.raises(StateError):
            store.write(state.with_journal_entry(_entry(2)))
    finally:
        changes.rmdir()
        aside.rename(changes)
    with changes.open("ab") as f:
        f.write(b"0badc0de {\"serial\"")  # what a write cut short would have left
    written = store.write(state.with_journal_entry(_entry(3)))
    assert not changes.exists() and LocalStateStore(path).read() == written
