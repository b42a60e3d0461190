"""SIGTERM and SIGINT are handled from the start of a command: while the manifest is read, while
waiting for the state lock, while refreshing — a clear "cancelled" message and exit 8 (the
README's contract), never exit 143 or a traceback; the lock is released on the way out.
(During apply's execution the executor's own graceful cancel applies: test_apply_cli.py.)

Each test waits until the process has installed its handlers (Linux: the SigCgt mask in
/proc/PID/status) and, where a phase matters, until it is provably in that phase (blocked
opening a FIFO manifest; a request counted by the emulator, which then holds it for seconds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fixtures_apply import luna_images, luna_yaml, write_case
from fixtures_bad_input import Workspace, bria_script
from fixtures_emulator import start_emulator_server

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


def _catches(pid: int, sig: signal.Signals) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(mask & (1 << (sig - 1)))


def _wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start(ws: Workspace, *args: str) -> subprocess.Popen:
    return subprocess.Popen([bria_script(), *args], cwd=ws.root, env=ws.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _assert_cancelled(process: subprocess.Popen, sig: signal.Signals) -> str:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 8, (process.returncode, out, err)
    assert f"cancelled by {sig.name}" in err, err
    assert "Traceback" not in err and "Task exception" not in err, err
    return err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_while_the_manifest_is_read_exits_8(fresh_workspace: Workspace, sig: signal.Signals) -> None:
    ws = fresh_workspace
    fifo = ws.root / "slow.yaml"
    os.mkfifo(fifo)                        # opening it blocks until a writer comes: never
    process = _start(ws, "plan", "-f", "slow.yaml")
    _wait_until(lambda: _catches(process.pid, signal.SIGTERM), "the handlers")
    time.sleep(0.2)                        # let it reach the open() of the FIFO (either way: exit 8)
    process.send_signal(sig)
    _assert_cancelled(process, sig)
    assert ws.requests() == 0 and not (ws.root / "state").exists()


def test_sigterm_while_waiting_for_the_lock_exits_8(fresh_workspace: Workspace, hold_lock_in_subprocess) -> None:
    ws = fresh_workspace
    holder = hold_lock_in_subprocess({"backend": "local", "path": str(ws.state_file)})
    process = _start(ws, "apply", "--auto-approve", "--lock-timeout", "120")
    _wait_until(lambda: _catches(process.pid, signal.SIGTERM), "the handlers")
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _assert_cancelled(process, signal.SIGTERM)
    assert ws.requests() == 0
    holder.release()


@pytest.fixture(scope="module")
def slow_server():
    """An emulator that holds every request for 20 s. Killed at the end: a graceful stop would
    wait for the requests the cancelled runs left behind."""
    process, url = start_emulator_server("--latency-ms", "20000")
    yield url
    process.kill()
    process.wait(timeout=10)
    process.stdout.close()


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve")], ids=lambda c: c[0])
def test_sigterm_during_refresh_exits_8_and_releases_the_lock(tmp_path: Path, slow_server: str,
                                                            command: tuple[str, ...]) -> None:
    write_case(tmp_path, luna_yaml(), luna_images(2))
    ws = Workspace(tmp_path, slow_server)
    ws.reset_stats()
    process = _start(ws, *command)
    _wait_until(lambda: ws.requests() >= 1, "the first refresh request")
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _assert_cancelled(process, signal.SIGTERM)
    assert time.monotonic() - started < 10, "it waited for the slow request instead of stopping"
    assert ws.mutations() == {}
    lock = ws.state_file.with_name("bria.json.lock")
    assert lock.read_text() == "", "the lock holder info was left behind: the lock was not released in order"
    assert httpx.get(f"{ws.admin_url}/_emulator/stats", timeout=10).status_code == 200


@pytest.mark.parametrize("raised, exit_code", [("KeyboardInterrupt()", -signal.SIGINT),
                                               ("Interrupted(signal.SIGINT)", 0)])
def test_an_interruption_caught_inside_a_dataclass_being_made_is_handled(raised: str, exit_code: int) -> None:
    """Why `Interrupted` is a subclass (cli/interrupts.py): when a plain KeyboardInterrupt
    passed through `exec` of a string — dataclasses are made that way — CPython ends the
    process by SIGINT at exit even though the program caught it and carried on; bria's own
    exception is treated as the handled exception it is."""
    code = ("import signal\nfrom reconciler.cli.interrupts import Interrupted\n"
            "try:\n"
            f"    exec('raise {raised}', {{'Interrupted': Interrupted, 'signal': signal}})\n"
            "except KeyboardInterrupt:\n"
            "    print('handled')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (exit_code, "handled\n"), done.stderr
