"""The benchmark scenarios. Each returns table rows; figures are medians of repeats taken in
one run, so ratios between rows are comparable on a shared, noisy machine."""

from __future__ import annotations

import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from benchmarks.harness import BRIA, EmulatorServer, RunResult, median, run_timed
from benchmarks.inputs import make_images, make_variants, write_manifest

PARALLELISM = 8
UPLOAD_ENDPOINT = "POST /tailored-gen/datasets/{id}/images"


@dataclass(frozen=True)
class Row:
    scenario: str
    wall_s: float
    bound_s: float | None
    requests: int | None
    rate_limited: int | None
    peak_rss_mb: float | None
    target: str
    note: str = ""
    cpu_s: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.wall_s / self.bound_s if self.bound_s else None


def _ok_counts(stats: dict) -> dict[str, int]:
    """Successful (non-429) requests per endpoint, from the emulator's counters."""
    return {ep: c["requests"] - c.get("rate_limited", 0) for ep, c in stats.get("by_endpoint", {}).items()}


def lower_bound(stats: dict, *, latency_ms: float, rate_limit: int | None, parallelism: int) -> float:
    """The least wall time the emulator's settings allow for the requests that succeeded:
    latency × sequential depth ÷ parallelism, or requests ÷ rate limit, whichever is larger.
    Non-upload calls are counted as sequential (they form the create → … → train chain);
    uploads overlap `parallelism` at a time."""
    ok = _ok_counts(stats)
    uploads = ok.get(UPLOAD_ENDPOINT, 0)
    others = sum(n for ep, n in ok.items() if ep != UPLOAD_ENDPOINT)
    latency_bound = latency_ms / 1000 * (others + math.ceil(uploads / parallelism))
    rate_bound = 0.0
    if rate_limit:
        # The busiest endpoint's requests beyond the bucket's burst at the limit, plus the
        # other calls, which cannot overlap them (the project and dataset must exist before
        # the uploads, the model only after them).
        per_second = rate_limit / 60
        burst = max(1.0, per_second)
        rate_bound = max((max(0.0, n - burst) / per_second for n in ok.values()), default=0.0)
        rate_bound += latency_ms / 1000 * others
    return max(latency_bound, rate_bound)


def _checked(result: RunResult, what: str, ok_codes: tuple[int, ...] = (0,)) -> RunResult:
    if result.exit_code not in ok_codes:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"benchmark step failed: {what} exited {result.exit_code}")
    return result


def _apply_rows(workdir: Path, quick: bool, *, label: str, latency_ms: float, rate_limit: int | None,
                image_size: int, noisy: bool, repeats: int, target: str,
                baselines: tuple[int, ...] = (), parallelisms: tuple[int, ...] = (PARALLELISM,),
                marginal: bool = False, count: int = 200, note: str = "") -> list[Row]:
    """bria apply (one row per --parallelism) and, when `baselines` names in-flight counts,
    the hand-written asyncio script (benchmarks/asyncio_baseline.py) on the same images and
    emulator; repeats are interleaved so that load changes hit every variant alike.
    `marginal=True` also runs every variant on a 1-image dataset in the same repeats, so the
    note can give the marginal CPU per upload, (CPU of N images − CPU of 1 image) ÷ (N − 1):
    the per-upload cost without the fixed start-up (imports, first requests). `count` over
    200 spreads the images over datasets of at most 200 (the API's limit); `note` is added
    to the label."""
    count = 40 if quick else count
    image_sets = _image_sets(workdir, count, size=image_size, noisy=noisy, seed=ord(label))
    folders = {name: paths[0].parent for name, paths in image_sets.items()}
    images = [p for paths in image_sets.values() for p in paths]
    single = make_images(workdir / "images-1", 1, size=image_size, noisy=noisy, seed=ord(label)) if marginal else []
    mb = sum(p.stat().st_size for p in images) / len(images) / 1e6
    _forget_earlier_runs(workdir)
    variants = [("bria", n) for n in parallelisms] + [("asyncio", n) for n in baselines]
    runs: dict[tuple[str, int], list[tuple[RunResult, dict]]] = {v: [] for v in variants}
    singles: dict[tuple[str, int], list[float]] = {v: [] for v in variants}
    with EmulatorServer(workdir / "emulator.sqlite", latency_ms=latency_ms, rate_limit=rate_limit) as emu:
        for rep in range(1 if quick else repeats):
            for kind, n in variants:
                sets = [(folders, "")] + ([({"set": single[0].parent}, "-one")] if single else [])
                for datasets, tag in sets:
                    token = f"bench-{label}-{kind}{n}-{rep}{tag}"
                    if kind == "bria":
                        manifest = write_manifest(workdir / f"bria-{n}-run{rep}{tag}.yaml", datasets=datasets,
                                                  endpoint=emu.base_url)
                        argv = [*BRIA, "apply", "-f", str(manifest), "--auto-approve", "--no-wait",
                                "--parallelism", str(n)]
                    else:
                        argv = [sys.executable, "-m", "benchmarks.asyncio_baseline", emu.base_url,
                                str(next(iter(datasets.values()))), str(n)]
                    emu.reset_stats()
                    result = _checked(run_timed(argv, env={"BRIA_API_TOKEN": token, "NO_COLOR": "1"}),
                                      f"scenario {label} {kind} {n}{tag}")
                    if tag:
                        singles[(kind, n)].append(result.cpu_s)
                    else:
                        runs[(kind, n)].append((result, emu.stats()))
    rows = []
    scaled = f" ({note})" if note else ""
    reference = {n: runs[("asyncio", n)] for n in baselines}
    for kind, n in variants:
        done = runs[(kind, n)]
        walls = [r.wall_s for r, _ in done]
        cpus = [r.cpu_s for r, _ in done]
        bounds = [lower_bound(st, latency_ms=latency_ms, rate_limit=rate_limit, parallelism=n) for _, st in done]
        who = f"bria --parallelism {n}" if kind == "bria" else f"asyncio script, {n} in flight"
        desc = f"{label}: {who}, {count} images of {mb:.2g} MB" + (f", {latency_ms:g} ms latency" if latency_ms else "") + (
            f", {rate_limit}/min/endpoint" if rate_limit else "") + scaled
        note = f"CPU {median(cpus) / count * 1000:.2f} ms/upload (total ÷ {count})"
        if singles[(kind, n)]:
            note += f", {_marginal(cpus, singles[(kind, n)], count) * 1000:.2f} ms marginal"
        if kind == "bria" and n in reference:
            base_wall = median([r.wall_s for r, _ in reference[n]])
            base_cpu = median([r.cpu_s for r, _ in reference[n]])
            note += f"; vs the script at {n}: wall {median(walls) / base_wall:.2f}×, CPU {median(cpus) / base_cpu:.2f}× total"
            if singles[(kind, n)]:
                base_marginal = _marginal([r.cpu_s for r, _ in reference[n]], singles[("asyncio", n)], count)
                note += f", {_marginal(cpus, singles[(kind, n)], count) / base_marginal:.2f}× marginal"
        if rate_limit:
            note += f"; 429s {median([st.get('rate_limited', 0) for _, st in done]) / max(1, median([st['requests'] for _, st in done])) * 100:.1f}%"
            note += "; bound = uploads beyond the burst ÷ limit + the other calls' latency"
        bound = median(bounds) or None   # no latency and no limit: no meaningful lower bound
        rows.append(Row(desc, median(walls), bound, int(median([st["requests"] for _, st in done])),
                        int(median([st.get("rate_limited", 0) for _, st in done])),
                        max(r.peak_rss_mb for r, _ in done), target if kind == "bria" else "comparison",
                        note, median(cpus)))
    return rows


def _marginal(cpus_n: list[float], cpus_1: list[float], count: int) -> float:
    """CPU seconds per upload beyond the first: (median CPU of the `count`-image runs − median
    CPU of the 1-image runs) ÷ (count − 1)."""
    return (median(cpus_n) - median(cpus_1)) / (count - 1)


def _image_sets(workdir: Path, count: int, *, size: int, noisy: bool, seed: int) -> dict[str, list[Path]]:
    """`count` images in datasets of at most 200 (the API's limit per dataset): {"set": …}
    for up to 200, else {"set0": …, "set1": …}."""
    if count <= 200:
        return {"set": make_images(workdir / "images", count, size=size, noisy=noisy, seed=seed)}
    sets = math.ceil(count / 200)
    return {f"set{i}": make_images(workdir / "images" / f"set{i}", count // sets, size=size, noisy=noisy,
                                   seed=seed * 100 + i)
            for i in range(sets)}


def _forget_earlier_runs(workdir: Path) -> None:
    """Every apply must start from nothing: a reused --workdir keeps the emulator's data and
    the state files of an earlier invocation, and an apply over them has nothing to do."""
    for leftover in workdir.glob("emulator.sqlite*"):
        leftover.unlink()
    shutil.rmtree(workdir / "state", ignore_errors=True)


def scenario_a(workdir: Path, quick: bool) -> list[Row]:
    """apply one 200-image dataset (1024 px), 100 ms latency, no rate limit; vs a hand-written asyncio script"""
    return _apply_rows(workdir, quick, label="a", latency_ms=100, rate_limit=None, image_size=1024,
                       noisy=False, repeats=3, target="wall ≤ 1.1× the script, CPU ≤ 1.3×",
                       baselines=(8, 16), parallelisms=(8, 16), marginal=True)


def scenario_b(workdir: Path, quick: bool) -> list[Row]:
    """apply one 200-image dataset (1024 px), 100 ms latency, 600 requests/minute per endpoint"""
    return _apply_rows(workdir, quick, label="b", latency_ms=100, rate_limit=600, image_size=1024,
                       noisy=False, repeats=3, target="ratio ≤ 1.05, 429s < 3%")


def scenario_l(workdir: Path, quick: bool) -> list[Row]:
    """apply 300 images (2 datasets), 100 ms latency, 60 requests/minute per endpoint (Bria's Starter tier, scaled down)"""
    count = 40 if quick else 300
    return _apply_rows(workdir, quick, label="l", latency_ms=100, rate_limit=60, image_size=1024,
                       noisy=False, repeats=1, target="ratio ≤ 1.05, 429s < 3%", count=count,
                       note=f"scaled down from an hour-long apply to {count} uploads"
                            + (" in 2 datasets" if count > 200 else "") + ", one run")


def scenario_c(workdir: Path, quick: bool) -> list[Row]:
    """sequential baseline: one upload at a time with a 500 ms pause (vendor guide), 100 ms latency"""
    count = 40 if quick else 200
    images = make_images(workdir / "images", count, size=1024, seed=ord("c"))
    with EmulatorServer(workdir / "emulator.sqlite", latency_ms=100) as emu:
        emu.reset_stats()
        result = _checked(run_timed([sys.executable, "-m", "benchmarks.baseline", emu.base_url,
                                     str(images[0].parent)], env={"BRIA_API_TOKEN": "bench-c"}),
                          "scenario c baseline")
        stats = emu.stats()
    bound = lower_bound(stats, latency_ms=100, rate_limit=None, parallelism=PARALLELISM)
    return [Row(f"c: sequential baseline, {count} images, 500 ms pause", result.wall_s, bound,
                stats["requests"], stats.get("rate_limited", 0), result.peak_rss_mb,
                "comparison for a", "bound = a's parallel bound")]


def scenario_d(workdir: Path, quick: bool) -> list[Row]:
    """no-change plan on 25 datasets × 200 images, cold (no hash cache) and warm; vs single-threaded hashlib"""
    n_sets, per_set = (5, 40) if quick else (25, 200)
    folders = {}
    files: list[Path] = []
    # ~250 KB incompressible JPEGs (realistic training-image sizes), unique per dataset.
    base = make_images(workdir / "base", per_set, size=512, noisy=True, seed=1000)
    for i in range(n_sets):
        paths = make_variants(base, workdir / "images" / f"set{i:02d}", tag=str(i))
        folders[f"set{i:02d}"] = paths[0].parent
        files.extend(paths)
    manifest = workdir / "bria.yaml"
    cache = workdir / ".bria"
    _forget_earlier_runs(workdir)
    env = {"BRIA_API_TOKEN": "bench-d", "NO_COLOR": "1"}
    with EmulatorServer(workdir / "emulator.sqlite") as emu:
        write_manifest(manifest, datasets=folders, endpoint=emu.base_url)
        _checked(run_timed([*BRIA, "apply", "-f", str(manifest), "--auto-approve", "--no-wait"], env=env),
                 "scenario d setup apply")
        plan = [*BRIA, "plan", "-f", str(manifest), "--detailed-exitcode"]
        listing = workdir / "files.txt"
        listing.write_text("".join(f"{p}\n" for p in files))
        hashing = [sys.executable, "-m", "benchmarks.hashlib_baseline", f"@{listing}"]
        cold, warm, requests, hashed, hashed_cpu, two_threads, summed = [], [], [], [], [], [], []
        for _ in range(1 if quick else 5):     # interleaved: the same load and page cache for each
            shutil.rmtree(cache, ignore_errors=True)
            emu.reset_stats()
            cold.append(_checked(run_timed(plan, env=env), "scenario d cold plan"))
            requests.append(emu.stats()["requests"])
            baseline = _checked(run_timed(hashing), "scenario d hashlib baseline")
            hashed.append(baseline.wall_s)
            hashed_cpu.append(baseline.cpu_s)
            two_threads.append(_checked(run_timed(hashing[:3] + ["--threads", "2"] + hashing[3:]),
                                        "scenario d hashlib on 2 threads").wall_s)
            summed.append(run_timed(["sha256sum", *map(str, files)]).wall_s)
        for _ in range(1 if quick else 5):
            emu.reset_stats()
            warm.append(_checked(run_timed(plan, env=env), "scenario d warm plan"))
    label = f"{n_sets}×{per_set} images"
    return [
        Row(f"d: no-change plan, {label}, cold", median([r.wall_s for r in cold]), median(hashed),
            int(median(requests)), 0, max(r.peak_rss_mb for r in cold), "≤ 1.0× hashlib",
            f"bound = single-threaded hashlib (read + sha256 only) over the same files, interleaved; "
            f"CPU {median([r.cpu_s for r in cold]) / median(hashed_cpu):.2f}× its; the same hashlib on 2 threads "
            f"{median(two_threads):.2f} s (what the machine's free cores allowed); sha256sum {median(summed):.2f} s",
            median([r.cpu_s for r in cold])),
        Row(f"d: no-change plan, {label}, warm", median([r.wall_s for r in warm]), None,
            int(median(requests)), 0, max(r.peak_rss_mb for r in warm), "< 1 s wall", "",
            median([r.cpu_s for r in warm])),
    ]


def scenario_e(workdir: Path, quick: bool) -> list[Row]:
    """peak memory applying 200 images of ~2 MB each"""
    return _apply_rows(workdir, quick, label="e", latency_ms=0, rate_limit=None, image_size=1500,
                       noisy=True, repeats=1, target="peak RSS < 200 MB")


def scenario_p(workdir: Path, quick: bool) -> list[Row]:
    """--parallelism 4, 8, 16, 32, 64: apply one 200-image dataset (1024 px), 100 ms latency"""
    return _apply_rows(workdir, quick, label="p", latency_ms=100, rate_limit=None, image_size=1024,
                       noisy=False, repeats=3, target="fastest is the default", parallelisms=(4, 8, 16, 32, 64))


def scenario_s(workdir: Path, quick: bool) -> list[Row]:
    """scaling: fresh apply of 1, 5, 25 datasets × 200 images (local and PostgreSQL), time per image"""
    from benchmarks.scaling import scenario_s as run

    return run(workdir, quick)


def scenario_h(workdir: Path, quick: bool) -> list[Row]:
    """CLI start-up: --help, validate and a no-change plan of the small example (medians of 10)"""
    from benchmarks.startup import scenario_h as run

    return run(workdir, quick)


SCENARIOS: dict[str, Callable[[Path, bool], list[Row]]] = {
    "a": scenario_a, "b": scenario_b, "l": scenario_l, "c": scenario_c, "d": scenario_d, "e": scenario_e, "p": scenario_p, "s": scenario_s,
    "h": scenario_h,
}
