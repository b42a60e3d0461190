"""Processes the benchmarks drive: the emulator server and timed `bria` runs.

`bria` always runs as its own process so that its wall time and peak RSS are its own
(peak RSS comes from `os.wait4`, i.e. the kernel's accounting for exactly that child).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

BRIA = [sys.executable, "-m", "reconciler"]


@dataclass(frozen=True)
class RunResult:
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0          # user + system CPU of the child (and its children)


def run_timed(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> RunResult:
    """Run a command to completion; wall time and the child's own peak RSS."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = RunResult(wall, usage.ru_maxrss / 1024.0, proc.returncode, out.read(), err.read(),
                           usage.ru_utime + usage.ru_stime)
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return result


class EmulatorServer:
    """`bria emulator serve` on a free loopback port, for the duration of a `with` block."""

    def __init__(self, data: Path, *, latency_ms: float = 0, rate_limit: int | None = None,
                 training_seconds: float = 3600):
        self.args = [*BRIA, "emulator", "serve", "--host", "127.0.0.1", "--port", "0",
                     "--data", str(data), "--latency-ms", str(latency_ms),
                     "--training-seconds", str(training_seconds), "--captions-seconds", "0.2"]
        if rate_limit:
            self.args += ["--rate-limit", str(rate_limit)]
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> "EmulatorServer":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "listening on" in line:
                self.base_url = line.strip().rsplit(" ", 1)[-1]
                return self
            if not line and self.proc.poll() is not None:
                break
        self.__exit__()
        raise RuntimeError("bria emulator serve did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def admin_url(self) -> str:
        return self.base_url.rsplit("/v1", 1)[0] + "/_emulator"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.admin_url}/stats", timeout=10) as resp:
            return json.loads(resp.read())

    def reset_stats(self) -> None:
        req = urllib.request.Request(f"{self.admin_url}/stats/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):
            pass


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
