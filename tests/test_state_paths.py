"""A local state path that cannot be used is bad input: a clear message naming the manifest's
line and field, exit 1, no traceback, no API call, no file changed — for every command.

Static problems (a folder where the file should be, a file where a folder should be) are found
when the manifest is loaded; an unwritable folder shows when the lock file is made, and the
message then points at `state.path` in the manifest. Runs against a real `bria emulator serve`
(fixtures_bad_input.py), whose request counters show "no API call".
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from fixtures_bad_input import Workspace

COMMANDS = [("validate",), ("plan",), ("apply", "--auto-approve"), ("destroy", "--auto-approve"),
            ("show",), ("output",), ("state", "list"), ("import", "project.luna", "1")]


def _with_state_path(ws: Workspace, value: str) -> int:
    """Append `state: {path: value}` to the manifest; returns the line of `path:`."""
    text = ws.manifest.read_text()
    ws.manifest.write_text(text + f"state:\n  path: {value}\n")
    return text.count("\n") + 2


def _assert_refused(ws: Workspace, done: subprocess.CompletedProcess, before: dict[str, str], *says: str) -> None:
    assert done.returncode == 1, (done.args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    for text in says:
        assert text in done.stderr, (done.args, done.stderr)
    assert ws.snapshot() == before, done.args
    assert ws.requests() == 0, (done.args, ws.stats()["by_endpoint"])


@pytest.mark.parametrize("layout", ["folder", "under-a-file", "default-under-a-file"])
def test_an_unusable_state_path_stops_every_command(fresh_workspace: Workspace, layout: str) -> None:
    ws = fresh_workspace
    if layout == "folder":
        (ws.root / "statedir").mkdir()
        line = _with_state_path(ws, "statedir")
        says = (f"bria.yaml:{line}:3: error: $.state.path: state.path cannot be used: {ws.root / 'statedir'} "
                "is a folder; the state must be a file",)
    elif layout == "under-a-file":
        (ws.root / "notes.txt").write_text("a file, not a folder\n")
        line = _with_state_path(ws, "notes.txt/state.json")
        says = (f"bria.yaml:{line}:3: error: $.state.path: state.path cannot be used: {ws.root / 'notes.txt'} "
                "is a file, so the folder for the state file state.json cannot be made there",)
    else:
        (ws.root / "state").write_text("a file named like the default state folder\n")
        says = ("error: $.state.path: the default state path (state/bria.json) cannot be used: "
                f"{ws.root / 'state'} is a file",)
    before = ws.snapshot()
    for args in COMMANDS:
        _assert_refused(ws, ws.invoke(*args), before, *says)


def test_a_state_folder_with_the_real_console_script(fresh_workspace: Workspace) -> None:
    ws = fresh_workspace
    (ws.root / "statedir").mkdir()
    line = _with_state_path(ws, "statedir")
    before = ws.snapshot()
    done = ws.run("plan")
    _assert_refused(ws, done, before, f"bria.yaml:{line}:3: error: $.state.path: state.path cannot be used")
    assert done.stderr.splitlines()[-1] == "bria.yaml: invalid — 1 error"


@contextlib.contextmanager
def _unwritable(folder: Path) -> Iterator[None]:
    """Make `folder` refuse new entries, for root too: `chattr +i` (immutable) when running as
    root, else mode 0555."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if made.returncode != 0:
            pytest.fail(f"chattr +i is needed to make a folder unwritable for root: {made.stderr!r}")
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def test_an_unwritable_state_folder_names_the_manifest_line(fresh_workspace: Workspace) -> None:
    ws = fresh_workspace
    folder = ws.root / "locked"
    folder.mkdir()
    line = _with_state_path(ws, "locked/bria.json")
    before = ws.snapshot()
    with _unwritable(folder):
        for args in [("plan",), ("apply", "--auto-approve"), ("destroy", "--auto-approve")]:
            _assert_refused(ws, ws.invoke(*args), before, f"cannot create the lock file {folder / 'bria.json.lock'}",
                            f"(state.path is set at bria.yaml:{line}:3)")
    # The positive control: the same manifest works once the folder is writable again.
    assert ws.invoke("plan").returncode == 0
