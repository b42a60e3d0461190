"""Scenario s: fresh applies of 1, 5 and 25 datasets × 200 images, on the local and the
PostgreSQL state backend, at 0 ms latency (so that bria's own cost per image shows).

Linear means the N-dataset apply takes N times the 1-dataset one: the row's bound is
N × (the 1 × 200 wall time of the same backend in this run), its ratio the excess.
PostgreSQL comes from BRIA_TEST_PG_DSN, else a throwaway `pgserver` (the test fixture's
way); without either, the PostgreSQL rows are skipped and say so.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from benchmarks.harness import BRIA, EmulatorServer, RunResult, median, run_timed
from benchmarks.inputs import make_images, make_variants, write_manifest

PER_SET = 200


@contextmanager
def postgres_dsn() -> Iterator[str | None]:
    given = os.environ.get("BRIA_TEST_PG_DSN")
    if given:
        yield given
        return
    try:
        import pgserver
    except ImportError:
        yield None
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bria-bench-pg-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def scenario_s(workdir: Path, quick: bool) -> list:
    """scaling: fresh apply of 1, 5, 25 datasets × 200 images (local and PostgreSQL), time per image"""
    from benchmarks.scenarios import Row

    sizes = [1, 2] if quick else [int(n) for n in os.environ.get("BRIA_BENCH_SCALES", "1,5,25").split(",")]
    per_set = 40 if quick else PER_SET
    base = make_images(workdir / "base", per_set, size=384, seed=2000)
    rows: list[Row] = []
    with postgres_dsn() as dsn:
        for backend in ("local", "postgres"):
            if backend == "postgres" and dsn is None:
                print("scenario s: no PostgreSQL (set BRIA_TEST_PG_DSN or install pgserver); skipped",
                      file=sys.stderr)
                continue
            one = None
            for n in sizes:
                # The unit of the bound is the median of 3 (one short run is noisy); others run once.
                runs = [_fresh_apply(workdir, base, n, backend, dsn) for _ in range(3 if n == sizes[0] else 1)]
                wall, cpu = median([r.wall_s for r in runs]), median([r.cpu_s for r in runs])
                one = one if one is not None else wall / n
                rows.append(Row(f"s: fresh apply {n}×{per_set} images, {backend} state", wall, one * n, None, None,
                                max(r.peak_rss_mb for r in runs), "ratio ≤ 1.1, RSS < 100 MB",
                                f"{wall / (n * per_set) * 1000:.1f} ms/image; bound = {n} × the "
                                f"{sizes[0]}×{per_set} wall" + (" (median of 3)" if len(runs) > 1 else ""), cpu))
    return rows


def _fresh_apply(workdir: Path, base: list[Path], n: int, backend: str, dsn: str | None) -> RunResult:
    run_dir = workdir / f"{backend}-{n}"
    shutil.rmtree(run_dir, ignore_errors=True)
    folders = {f"set{i:02d}": make_variants(base, workdir / "images" / f"set{i:02d}", tag=f"s{i}")[0].parent
               for i in range(n)}
    run_dir.mkdir(parents=True)
    env = {"BRIA_API_TOKEN": f"bench-s-{backend}-{n}-{uuid.uuid4().hex[:6]}", "NO_COLOR": "1"}
    with EmulatorServer(run_dir / "emulator.sqlite") as emu:
        manifest = write_manifest(workdir / f"bria-{backend}-{n}.yaml", datasets=folders, endpoint=emu.base_url, models=False,
                                  state_path=None if backend == "postgres" else f"{backend}-{n}/state.json")
        if backend == "postgres":
            text = manifest.read_text() + (f"state:\n  backend: postgres\n  dsn_env: BRIA_BENCH_PG_DSN\n"
                                           f"  workspace: bench-{uuid.uuid4().hex[:8]}\n")
            manifest.write_text(text)
            env["BRIA_BENCH_PG_DSN"] = dsn or ""
        # A plan first, so that hashing (cached from here on) is not part of the apply's time.
        run_timed([*BRIA, "plan", "-f", str(manifest)], env=env)
        result = run_timed([*BRIA, "apply", "-f", str(manifest), "--auto-approve", "--no-wait"], env=env)
    if result.exit_code != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"scenario s: apply of {n} datasets ({backend}) exited {result.exit_code}")
    return result
