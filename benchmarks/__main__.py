"""Benchmark harness: `python -m benchmarks [--quick] [--only a,b,...]`.

Starts `bria emulator serve` on loopback with set latency and rate limits, runs `bria` as a
separate process, and prints one table: wall time, the lower bound the emulator's settings
allow, their ratio, requests sent, 429s received and the peak RSS of the `bria` process.
The package's bytecode is compiled first, as an install does.

Scenarios (issue 7):
  a  apply one 200-image dataset (images >= 1024 px), 100 ms latency, no rate limit
  b  the same with a 600 requests/minute per-endpoint limit
  l  300 images (2 datasets) under 60 requests/minute per endpoint (Bria's Starter tier;
     scaled down from an hour-long apply, ~5 minutes)
  c  sequential baseline: one upload at a time with a 500 ms pause (the vendor guide's way)
  d  no-change plan on 25 datasets x 200 images, cold (no hash cache) and warm; bound:
     single-threaded hashlib (read + sha256 only, benchmarks/hashlib_baseline.py) over the
     same files, interleaved; `sha256sum` in the note
  e  peak memory applying 200 images of ~2 MB each
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

from benchmarks.scenarios import SCENARIOS, Row
from benchmarks.table import render_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated scenario letters (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller inputs (for a smoke run; figures are not comparable)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to generate images and state (default: a temporary folder)")
    args = parser.parse_args(argv)

    wanted = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")

    _compile_bytecode()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bria-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for letter in wanted:
            print(f"running scenario {letter}: {SCENARIOS[letter].__doc__.strip().splitlines()[0]}",
                  file=sys.stderr, flush=True)
            rows.extend(SCENARIOS[letter](workdir / letter, quick=args.quick))

    print(f"machine: {platform.machine()}, {_cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(render_table(rows))
    return 0


def _compile_bytecode() -> None:
    """Measure bria as installed: pip compiles a package's bytecode at install time, so an
    installed bria never compiles its modules at start-up. A source checkout may not have
    it (PYTHONDONTWRITEBYTECODE=1, or stale files): compiling every module then cost each
    timed `bria` run ~0.06 s of CPU that a user never pays. Written beside the sources
    (`__pycache__`, ignored by git), and read by the timed runs whatever their settings."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("reconciler", "benchmarks"):
        compileall.compile_dir(root / package, quiet=1)


def _cpu_count() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main())
