"""Scenario h: how fast the CLI answers — `bria --help`, `validate` and a no-change `plan` of
the small example (examples/luna, embedded emulator), medians of 10 wall and CPU times, with
`python -c pass` as the floor. The example is copied (with its images) and applied once."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from benchmarks.harness import BRIA, median, run_timed

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "luna"


def scenario_h(workdir: Path, quick: bool) -> list:
    from benchmarks.scenarios import Row

    repeats = 3 if quick else 10
    example = workdir / "luna"
    shutil.rmtree(example, ignore_errors=True)
    shutil.copytree(EXAMPLE, example)
    env = {"NO_COLOR": "1"}
    applied = run_timed([*BRIA, "apply", "--auto-approve", "--no-wait"], env=env, cwd=example)
    if applied.exit_code != 0:
        raise SystemExit(f"scenario h: applying the example failed: {applied.stdout}{applied.stderr}")
    commands = [("python -c pass", [sys.executable, "-c", "pass"], None, "floor"),
                ("bria --help", [*BRIA, "--help"], 0.15, "< 150 ms"),
                ("bria validate, small example", [*BRIA, "validate"], None, ""),
                ("bria plan, small example, no change", [*BRIA, "plan", "--detailed-exitcode"], 0.40, "< 400 ms")]
    timings: dict[str, list] = {label: [] for label, *_ in commands}
    for _ in range(repeats):              # interleaved: load changes hit every command alike
        for label, argv, _, _ in commands:
            result = run_timed(argv, env=env, cwd=example)
            if result.exit_code != 0:
                raise SystemExit(f"scenario h: {label} exited {result.exit_code}: {result.stdout}{result.stderr}")
            timings[label].append(result)
    rows = []
    for label, _, limit, target in commands:
        runs = timings[label]
        rows.append(Row(f"h: {label}", median([r.wall_s for r in runs]), None, None, None,
                        max(r.peak_rss_mb for r in runs), target or "comparison",
                        f"median of {repeats}", median([r.cpu_s for r in runs])))
    return rows
