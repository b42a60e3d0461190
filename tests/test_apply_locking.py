"""Two `bria apply` runs on one state, and a run killed while it holds the lock — with each
state backend (local file: flock; PostgreSQL: a session advisory lock).

- A second apply without --lock-timeout exits 3 naming the holder and changes nothing.
- With --lock-timeout it waits for the first to finish, then plans against the state the
  first left: nothing to do, or only what the first run did not do.
- A run SIGKILLed while holding the lock leaves no lock behind: the next run gets it at once.

"The right serial" is checked against a reference: the same runs made one after the other
on a fresh state in another organisation. Every state write adds exactly one to the serial,
so the two serials are equal only if no write was lost, doubled or made by the run that did
not hold the lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from fixtures_apply import TOKEN, CliBackend, luna_images, luna_yaml, run_bria, write_case
from fixtures_emulator import start_emulator_server, stop_emulator_server
from test_apply_cli import counts

IMAGES = luna_images(6)
# Long enough that the first run still holds the lock when a second `bria` process has
# started on a loaded 2-core CI machine (the run makes ~14 sequential calls: ~5.6 s).
LATENCY_MS = "400"


def start_bria(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=cwd,
                            env={**os.environ, "BRIA_API_TOKEN": TOKEN, "NO_COLOR": "1", **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, text: str) -> None:
    """Read the process's stdout until a line containing `text` (the process keeps running)."""
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return
    raise AssertionError(f"{process.args} ended without printing {text!r}: {process.communicate()}")


@pytest.fixture(scope="module")
def reference_serial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., int]]:
    """`reference_serial(*runs)`: the serial that `runs` (tuples of apply arguments) leave
    behind when made one after the other on a fresh state, in a fresh organisation.
    Computed once per distinct `runs`. The serial counts state writes, which do not depend
    on the backend, so the local one serves both. They do depend on timing: updates that
    arrive while a write is in progress share the next write (group commit). With one call
    at a time and LATENCY_MS per call, a write never overlaps the next update, so the
    reference runs with the same latency as the tests."""
    process, url = start_emulator_server("--latency-ms", LATENCY_MS, "--training-seconds", "600")
    serials: dict[tuple[tuple[str, ...], ...], int] = {}

    def serial(*runs: tuple[str, ...]) -> int:
        if runs not in serials:
            root = tmp_path_factory.mktemp("reference")
            write_case(root, luna_yaml(), IMAGES)
            env = {"BRIA_API_URL": url, "BRIA_API_TOKEN": f"reference-{len(serials)}"}
            for args in runs:
                result = run_bria("apply", "--auto-approve", "--parallelism", "1", *args, cwd=root, env=env)
                assert result.returncode == 0, result.stdout + result.stderr
            serials[runs] = CliBackend("local").read_state(root).serial
        return serials[runs]

    yield serial
    stop_emulator_server(process)


def assert_converged(root: Path, url: str, env: dict[str, str], backend: CliBackend) -> None:
    assert run_bria("plan", "--detailed-exitcode", cwd=root, env=env).returncode == 0
    assert counts(url) == {"projects": 1, "datasets": 1, "models": 1, "images": len(IMAGES)}
    assert backend.read_state(root).journal == ()


def test_second_apply_while_one_runs_exits_3_naming_the_holder(tmp_path, emulator_server, cli_backend,
                                                                 reference_serial):
    url = emulator_server("--latency-ms", LATENCY_MS, "--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    root = tmp_path / "work"
    cli_backend.write_case(root, luna_yaml(), IMAGES)
    first = start_bria("apply", "--auto-approve", "--parallelism", "1", cwd=root, env=env)
    try:
        assert first.stdout.readline().strip() != ""   # the plan is printed: the lock is held
        second = run_bria("apply", "--auto-approve", cwd=root, env=env)
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert_converged(root, url, env, cli_backend)
    assert cli_backend.read_state(root).serial == reference_serial(())


@pytest.mark.parametrize("first_args, second_does", [
    ((), "nothing"),
    (("--target", "dataset.luna_v1"), "the rest"),
])
def test_second_apply_with_lock_timeout_waits_then_does_what_is_left(tmp_path, emulator_server, cli_backend,
                                                                     reference_serial, first_args, second_does):
    url = emulator_server("--latency-ms", LATENCY_MS, "--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    root = tmp_path / "work"
    cli_backend.write_case(root, luna_yaml(), IMAGES)
    first = start_bria("apply", "--auto-approve", "--parallelism", "1", *first_args, cwd=root, env=env)
    try:
        assert first.stdout.readline().strip() != ""   # the plan is printed: the lock is held
        second = start_bria("apply", "--auto-approve", "--parallelism", "1", "--lock-timeout", "60",
                            cwd=root, env=env)
    finally:
        first_out, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_out + first_err
    # The second started while the first held the lock, and outlived it: it waited.
    assert second.poll() is None
    second_out, second_err = second.communicate(timeout=60)
    assert second.returncode == 0, second_out + second_err

    if second_does == "nothing":
        assert "No changes" in second_out
        runs: tuple[tuple[str, ...], ...] = ((),)
    else:   # the second plans against the state the first left: only the model is missing
        assert "model.luna_max" in second_out and "project.luna" not in second_out, second_out
        runs = (first_args, ())
    assert_converged(root, url, env, cli_backend)
    assert cli_backend.read_state(root).serial == reference_serial(*runs)


def test_a_run_killed_while_holding_the_lock_leaves_no_lock_behind(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--latency-ms", "100", "--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    root = tmp_path / "work"
    cli_backend.write_case(root, luna_yaml(), IMAGES)
    victim = start_bria("apply", "--auto-approve", "--parallelism", "2", cwd=root, env=env)
    wait_for_line(victim, "uploaded")
    victim.kill()
    victim.communicate(timeout=10)
    assert victim.returncode == -signal.SIGKILL
    if cli_backend.name == "postgres":   # it died holding the lock: its info is still recorded
        assert cli_backend.row(root)["lock_info"]["pid"] == victim.pid

    # No --lock-timeout, no force-unlock: the lock went with the process.
    rerun = run_bria("apply", "--auto-approve", cwd=root, env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_converged(root, url, env, cli_backend)
    if cli_backend.name == "postgres":   # a run that ended normally leaves no holder recorded
        assert cli_backend.row(root)["lock_info"] is None
