"""`<state>.backup` always holds the version before the current one, and is never replaced by a
copy of the current state — not even when the write fails (an immutable state file)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fixtures_bad_input import Workspace
from fixtures_emulator import make_png

from reconciler.state.local import LocalStateStore
from reconciler.state.model import ProjectRecord, State
from reconciler.state.store import StateError

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def test_the_backup_is_always_the_previous_distinct_version(tmp_path: Path, sample_state: State) -> None:
    store = LocalStateStore(tmp_path / "s.json")
    store.read()
    state = store.write(sample_state)
    previous = state
    for i in range(4):
        state = store.write(state.with_resource("project.p", ProjectRecord(100 + i)))
        assert LocalStateStore(store.backup_path).read() == previous
        assert store.backup_path.read_bytes() != store.path.read_bytes()
        previous = state


def test_a_failed_rename_leaves_state_and_backup_as_they_were(tmp_path: Path, sample_state: State,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The state file refuses to be replaced (as an immutable file does for everyone)."""
    store = LocalStateStore(tmp_path / "s.json")
    store.read()
    first = store.write(sample_state)
    second = store.write(first.with_resource("project.p", ProjectRecord(1)))
    state_bytes, backup_bytes = store.path.read_bytes(), store.backup_path.read_bytes()
    real_replace = os.replace

    def replace_refusing_the_state_file(src, dst, *args, **kwargs):
        if Path(dst) == store.path:
            raise PermissionError(1, "Operation not permitted", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace_refusing_the_state_file)
    for _ in range(2):                  # twice: a retried write must not "rotate" the backup either
        with pytest.raises(StateError, match="cannot write .*Operation not permitted.*previous version is intact"):
            store.write(second.with_resource("project.p", ProjectRecord(2)))
    assert (store.path.read_bytes(), store.backup_path.read_bytes()) == (state_bytes, backup_bytes)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif(not AS_ROOT, reason="`chattr +i` needs root; the test above covers the same failure")
def test_apply_with_an_immutable_state_file_keeps_the_backup(applied_workspace: Workspace) -> None:
    ws = applied_workspace
    backup = ws.state_file.with_name(ws.state_file.name + ".backup")
    before_state, before_backup = ws.state_file.read_bytes(), backup.read_bytes()
    assert before_state != before_backup
    (ws.root / "images" / "luna" / "extra.png").write_bytes(make_png(256, 256, 4242))   # something to apply
    made = subprocess.run(["chattr", "+i", str(ws.state_file)], capture_output=True)
    assert made.returncode == 0, made.stderr
    try:
        done = ws.run("apply", "--auto-approve")
    finally:
        subprocess.run(["chattr", "-i", str(ws.state_file)], check=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Operation not permitted" in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert ws.state_file.read_bytes() == before_state
    assert backup.read_bytes() == before_backup, "the backup was replaced"
    assert ws.mutations() == {}, "an API call was made although its journal entry could not be saved"
