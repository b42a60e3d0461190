"""Fault soak (issue 10): 20 applies of a 2-dataset, 2-model manifest through a hostile API.

`bria emulator serve` with its fault knobs: 15% of requests answered 5xx before anything
commits, 15% of mutations answered 5xx and committed 0.3 s later (30% 5xx in all, half of
them committing late), 10% of committed mutations answered with an undecodable 2xx, 10%
with the connection dropped, and a per-endpoint rate limit. Each apply (its own
organisation) must converge within 3 runs, and the emulator must then hold exactly one of
everything. The figures are printed (pytest -s) for the record.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from fixtures_apply import luna_yaml, with_sol_project, write_case
from fixtures_faultproxy import account, bria

APPLIES = 20
MAX_RUNS = 3
SOAK_YAML = with_sol_project(luna_yaml()) + """\
  sol_max:
    dataset: sol_v1
    name: Sol max
"""
IMAGES = {"images/luna/a.png": 1, "images/luna/b.png": 2, "images/sol/c.png": 3, "images/sol/d.png": 4}


def _one_apply(index: int, base: Path, url: str) -> int:
    root = write_case(base / f"a{index}", SOAK_YAML, IMAGES, size=256).parent
    token = f"soak-{index}"
    for run in range(1, MAX_RUNS + 1):
        result = bria(root, url, "apply", "--auto-approve", "--settle-window", "1", token=token)
        if result.returncode == 0:
            break
        assert result.returncode == 5, f"apply {index} run {run}: {result.stdout}{result.stderr}"
    else:
        raise AssertionError(f"apply {index} did not converge in {MAX_RUNS} runs: {result.stdout}{result.stderr}")
    live = account(url, token)
    counts = {k: len(live[k]) for k in ("projects", "datasets", "models")}
    assert counts == {"projects": 2, "datasets": 2, "models": 2}, f"apply {index}: {counts}"
    for dataset_id, images in live["images"].items():
        names = [i["image_name"] for i in images]
        assert len(names) == len(set(names)) == 2, f"apply {index}, dataset {dataset_id}: {names}"
    plan = bria(root, url, "plan", "--detailed-exitcode", token=token)
    assert plan.returncode == 0, f"apply {index}: {plan.stdout}{plan.stderr}"
    return run


@pytest.mark.slow
def test_twenty_applies_converge_with_no_duplicate_under_faults(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "1", "--fault-rate", "0.15", "--late-commit-rate", "0.15",
                          "--late-commit-delay", "0.3", "--garbled-rate", "0.1", "--drop-rate", "0.1",
                          "--rate-limit", "60", "--rate-burst", "2", "--retry-after", "--seed", "3")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda i: _one_apply(i, tmp_path, url), range(APPLIES)))
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()
    counted = ("requests", "faults", "late_commits", "late_committed", "garbled", "dropped", "rate_limited")
    figures = {"applies": APPLIES, "runs": {n: runs.count(n) for n in sorted(set(runs))},
               "seconds": round(time.monotonic() - started, 1), "emulator": {k: stats.get(k) for k in counted}}
    print(f"\nfault soak figures: {figures}")
    assert max(runs) <= MAX_RUNS
    assert all(stats[k] > 0 for k in counted), stats     # every fault really happened
