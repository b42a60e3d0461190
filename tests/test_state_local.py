"""The local file backend: atomic writes, backup, corruption messages, serial conflicts,
and the OS lock across real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures_state import make_sample_state

from reconciler.state.codec import encode_state
from reconciler.state.local import LocalStateStore
from reconciler.state.model import ProjectRecord, State
from reconciler.state.store import SerialConflict, StateError, StateLocked


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "luna.json"


def test_first_read_is_none_and_first_write_makes_serial_1(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    assert store.read() is None
    written = store.write(sample_state)
    assert written.serial == 1 and written.lineage == sample_state.lineage
    assert LocalStateStore(path).read() == written


def test_empty_lineage_gets_a_uuid_that_is_kept(path: Path) -> None:
    store = LocalStateStore(path)
    store.read()
    first = store.write(State(lineage=""))
    assert len(first.lineage) == 36
    second = store.write(first.with_resource("project.p", ProjectRecord(3, {"name": "p"})))
    assert (second.lineage, second.serial) == (first.lineage, 2)


def test_file_is_sorted_indented_json_matching_to_dict(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    written = store.write(sample_state)
    text = path.read_text()
    assert json.loads(text) == written.to_dict()
    assert text.startswith('{\n  "format_version": 2,\n  "journal": [')
    top_keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert top_keys == sorted(top_keys) == ["format_version", "journal", "lineage", "resources", "serial"]
    # an image record is one line
    assert any(line.strip().startswith('"') and '"caption_source": "automatic"' in line for line in text.splitlines())


def test_backup_holds_the_previous_version_and_no_temp_files_remain(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    one = store.write(sample_state)
    assert not store.backup_path.exists()
    two = store.write(one.with_resource("project.extra", ProjectRecord(9)))
    assert json.loads(store.backup_path.read_text()) == one.to_dict()
    assert json.loads(path.read_text()) == two.to_dict()
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_corrupt_file_names_the_file_and_the_backup(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    store.write(store.write(sample_state))
    path.write_text('{"format_version": 1, "lineage": ')
    with pytest.raises(StateError) as err:
        LocalStateStore(path).read()
    message = str(err.value)
    assert str(path) in message and "corrupt" in message and str(store.backup_path) in message


def test_schema_violation_lists_where(path: Path, sample_state: State) -> None:
    document = sample_state.to_dict()
    document["resources"]["model.luna_max"]["status"] = "Sleeping"
    del document["resources"]["project.luna"]["remote_id"]
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    with pytest.raises(StateError) as err:
        LocalStateStore(path).read()
    message = str(err.value)
    assert "/resources/model.luna_max/status" in message and "'Sleeping'" in message
    assert "remote_id" in message and str(path) in message


def test_unknown_format_version_is_refused(path: Path, sample_state: State) -> None:
    path.parent.mkdir(parents=True)
    # (3 is this bria's own mark for a snapshot with changes after it: the next is unknown)
    path.write_text(json.dumps({**sample_state.to_dict(), "format_version": 4}))
    with pytest.raises(StateError, match="format_version"):
        LocalStateStore(path).read()


def test_deleted_file_behind_the_store_conflicts(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    written = store.write(sample_state)
    path.unlink()
    with pytest.raises(SerialConflict):
        store.write(written)


def test_write_of_a_higher_serial_jumps_past_it(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    store.write(sample_state)
    assert store.write(replace(sample_state, serial=10)).serial == 11


_KILLED_WRITER = """
import sys, pathlib
sys.path.insert(0, sys.argv[2])
from fixtures_state import make_sample_state
from reconciler.state.local import LocalStateStore
from reconciler.state.model import ProjectRecord
store = LocalStateStore(pathlib.Path(sys.argv[1]))
state = store.read() or make_sample_state(datasets=3, images=60)
print("ready", flush=True)
for i in range(100000):
    state = store.write(state.with_resource("project.p", ProjectRecord(i)))
"""


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.29])
def test_sigkill_during_writes_leaves_a_complete_state_and_backup(path: Path, delay: float) -> None:
    tests_dir = str(Path(__file__).parent)
    for _ in range(2):
        writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), tests_dir],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        state = LocalStateStore(path).read()
        backup = LocalStateStore(path.with_name(path.name + ".backup")).read()
        assert state is not None and backup is not None
        # The backup is never the current version: it is the previous one, or (killed between
        # the state's rename and the backup's) the one before that.
        assert backup.serial in (state.serial - 1, state.serial - 2)


def test_incremental_write_of_a_big_state_is_fast(path: Path) -> None:
    """25 datasets × 200 images; one image added per write, as apply does."""
    store = LocalStateStore(path)
    store.read()
    state = store.write(make_sample_state(datasets=25, images=200))
    timings = []
    for i in range(20):
        record = state.datasets["ds3"]
        version = record.current
        assert version is not None
        grown = replace(version, images={**version.images, f"{i:064x}": next(iter(version.images.values()))})
        started = time.perf_counter()
        state = store.write(state.with_resource("dataset.ds3", record.with_current(grown)))
        timings.append(time.perf_counter() - started)
    median = sorted(timings)[len(timings) // 2]
    print(f"incremental write median {median * 1000:.1f} ms ({path.stat().st_size} bytes)")
    # Generous: two fsyncs per write make absolute times vary a lot on shared CI disks; this
    # guards against a pathological write path, throughput is measured in benchmarks/.
    assert median < 0.25
    assert json.loads(path.read_text()) == state.to_dict()


def test_encoding_matches_to_dict_for_every_record_kind() -> None:
    state = make_sample_state(datasets=2, images=3)
    assert json.loads(encode_state(state)) == state.to_dict()
    empty = State.empty()
    assert json.loads(encode_state(empty)) == empty.to_dict()


# --- locking ---------------------------------------------------------------------------


def test_two_stores_in_one_process_exclude_each_other_and_unlock_clears_info(path: Path) -> None:
    first, second = LocalStateStore(path), LocalStateStore(path)
    first.lock("apply")
    with pytest.raises(StateLocked):
        second.lock("plan")
    first.unlock()
    assert first.lock_path.read_text() == ""
    assert second.lock("plan").command == "plan"


def test_force_unlock_refuses_a_live_holder(path: Path, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(path)})
    with pytest.raises(StateError, match="still running"):
        LocalStateStore(path).force_unlock(holder.lock_id)
    with pytest.raises(StateError, match="does not match"):
        LocalStateStore(path).force_unlock("not-the-id")


def test_force_unlock_clears_info_left_by_a_dead_holder(path: Path, hold_lock_in_subprocess) -> None:
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(path)})
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    store = LocalStateStore(path)
    assert holder.lock_id in store.lock_path.read_text()
    store.force_unlock(holder.lock_id)
    assert store.lock_path.read_text() == ""
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock(holder.lock_id)


def test_failed_write_is_a_state_error_and_the_old_file_survives(path: Path, sample_state: State) -> None:
    store = LocalStateStore(path)
    store.read()
    written = store.write(sample_state)
    store.backup_path.mkdir()          # the backup cannot be put in place: the write must stop
    with pytest.raises(StateError, match="cannot write"):
        store.write(written.with_resource("project.x", ProjectRecord(8)))
    assert LocalStateStore(path).read() == written
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
