"""Pacing in virtual time:
`python -m benchmarks.pacing_sim [--jitter=J] [LIMIT:REQUESTS[:PARALLELISM[:BURST[:ra]]] ...]`.

The real AdaptivePacer and RetryPolicy (reconciler/api/) drive PARALLELISM workers (default
8) that send REQUESTS on one endpoint to the emulator's own token bucket
(reconciler/emulator/faults.RateLimiter: refill LIMIT/60 per second, capacity BURST,
default — or "-" — max(1, LIMIT/60); 429s carry Retry-After only with "ra"; "w" counts each
minute's requests instead, "ra+w" both), on a simulated
clock: an hour-long apply under 60/min takes a second. Each request takes 100 ms ± J × 100
ms (default J = 0.2; seeded) and, as in the emulator, meets the bucket after that latency.
It prints the wall time against the bound (requests beyond the burst ÷ the limit), the
share of 429s, the uploads that ran out of retries, and the pacer's rate and estimate after
1, 5 and 60 minutes (does the measurement converge, and stay). Not a substitute for the
harness's real runs (`python -m benchmarks --only b,l`): no HTTP, no event-loop costs, one
endpoint; it isolates the algorithm.
"""

from __future__ import annotations

import heapq
import itertools
import random
import sys
from dataclasses import dataclass, field
from typing import Any, Generator

from reconciler.api.pacing import AdaptivePacer, PacingConfig
from reconciler.api.transport import RetryPolicy, parse_retry_after
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.faults import RateLimiter, retry_after_header

KEY = "POST /tailored-gen/datasets/{id}/images"
SAMPLE_MINUTES = (1, 5, 60)
DEFAULT_CASES = ("60:300", "60:300:16", "60:3600", "600:200", "600:2000:16", "600:36000:16",
                 "60:300:8:60", "600:2000:16:600", "60:300:8:-:ra", "600:2000:16:-:ra", "60:300:8:-:w",
                 "60:300:8:-:w+ra")


class _Sleep:
    """What a simulated coroutine awaits: the scheduler resumes it `seconds` later."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __await__(self) -> Generator[float, None, None]:
        yield self.seconds


@dataclass
class SimResult:
    wall: float
    bound: float
    limited: int
    requests: int
    gave_up: int
    limited_at: list[float] = field(default_factory=list)  # when each 429 was answered
    rate_at_minute: dict[int, float | None] = field(default_factory=dict)
    estimate_at_minute: dict[int, float | None] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.wall / self.bound if self.bound else float("inf")

    @property
    def limited_share(self) -> float:
        return self.limited / max(1, self.requests)


def simulate(limit_per_minute: float, requests: int, *, parallelism: int = 8, latency: float = 0.1,
             burst: float | None = None, retry_after: bool = False, config: PacingConfig | None = None,
             seed: int = 0, max_retries: int = 6, jitter: float = 0.2, clients: int = 1,
             window: bool = False) -> SimResult:
    """`requests` uploads by `parallelism` workers through one pacer against the emulator's
    token bucket, in virtual time (see the module docstring). `clients` > 1 runs that many
    independent clients (each its own pacer and workers) on the same account's bucket,
    sharing the uploads: two applies at once."""
    now = [0.0]
    pacers = [AdaptivePacer(config, clock=lambda: now[0], sleep=_Sleep) for _ in range(clients)]
    emulator = EmulatorConfig(rate_limit=limit_per_minute, rate_burst=burst, retry_after=retry_after,
                              rate_window=window)
    limiter = RateLimiter(emulator)
    policy, rng = RetryPolicy(max_retries, 0.5, 30.0), random.Random(seed)
    left = [requests]
    counts = {"sent": 0, "limited": 0, "gave_up": 0}
    finished = [0.0]
    limited_at: list[float] = []

    async def attempt(pacer: AdaptivePacer) -> float | None:
        """One request: None when it got through, else the 429's Retry-After (or -1)."""
        sent_at = await pacer.wait_turn(KEY)
        counts["sent"] += 1
        await _Sleep(latency * rng.uniform(1 - jitter, 1 + jitter))
        wait = limiter.take(1, KEY, now[0])
        if wait is None:
            pacer.record_success(KEY, sent_at)
            return None
        counts["limited"] += 1
        limited_at.append(now[0])
        header = parse_retry_after(retry_after_header(wait)) if retry_after else None
        pacer.record_rate_limited(KEY, sent_at, header)
        return -1.0 if header is None else header

    async def worker(pacer: AdaptivePacer) -> None:
        while left[0] > 0:
            left[0] -= 1
            for retry in range(max_retries + 1):
                refused = await attempt(pacer)
                if refused is None:
                    break
                if retry == max_retries:
                    counts["gave_up"] += 1
                    break
                await _Sleep(refused if refused >= 0 else policy.backoff(retry + 1, rng))
        finished[0] = max(finished[0], now[0])

    burst_allowance = limit_per_minute if window else emulator.bucket_capacity
    result = SimResult(0.0, max(0.0, requests - burst_allowance) / (limit_per_minute / 60), 0, 0, 0)
    workers = [worker(pacer) for pacer in pacers for _ in range(parallelism)]
    _run(workers, now, lambda minute: _sample(result, pacers[0], minute))
    result.wall, result.limited, result.requests, result.gave_up = (
        finished[0], counts["limited"], counts["sent"], counts["gave_up"])
    result.limited_at = limited_at
    return result


def _sample(result: SimResult, pacer: AdaptivePacer, minute: int) -> None:
    result.rate_at_minute[minute] = pacer.rate(KEY)
    result.estimate_at_minute[minute] = pacer.estimate(KEY)


def _run(workers: list[Any], now: list[float], sample: Any) -> None:
    """A tiny event loop over simulated time: coroutines yield how long they sleep."""
    order = itertools.count()
    queue = [(0.0, next(order), worker) for worker in workers]
    pending = list(SAMPLE_MINUTES)
    while queue:
        at, _, coroutine = heapq.heappop(queue)
        now[0] = at
        while pending and at >= pending[0] * 60:
            sample(pending.pop(0))
        try:
            heapq.heappush(queue, (at + coroutine.send(None), next(order), coroutine))
        except StopIteration:
            pass


def _rates(values: dict[int, float | None]) -> str:
    return " / ".join("—" if values.get(m) is None else f"{values[m]:.3f}" for m in SAMPLE_MINUTES)


def main(argv: list[str]) -> None:
    jitter = next((float(a.split("=", 1)[1]) for a in argv if a.startswith("--jitter=")), 0.2)
    cases = [a for a in argv if not a.startswith("--")] or list(DEFAULT_CASES)
    print("| limit/min | requests | in flight | burst | Retry-After | simulated wall s | bound s | ratio | 429s | "
          "gave up | rate after 1 / 5 / 60 min | estimate after 1 / 5 / 60 min (limit/s) |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|")
    for case in cases:
        fields = case.split(":")
        limit, requests = float(fields[0]), int(fields[1])
        parallelism = int(fields[2]) if len(fields) > 2 else 8
        burst = float(fields[3]) if len(fields) > 3 and fields[3] != "-" else None
        flags = fields[4].split("+") if len(fields) > 4 else []
        retry_after, window = "ra" in flags, "w" in flags
        r = simulate(limit, requests, parallelism=parallelism, burst=burst, retry_after=retry_after, jitter=jitter,
                     window=window)
        shown_burst = f"{limit:g}/min window" if window else f"{burst if burst is not None else max(1.0, limit / 60):g}"
        print(f"| {limit:g} | {requests} | {parallelism} | {shown_burst} | {'yes' if retry_after else 'no'} | "
              f"{r.wall:.0f} | {r.bound:.0f} | {r.ratio:.3f} | {r.limited} ({r.limited_share * 100:.1f}%) | "
              f"{r.gave_up} | {_rates(r.rate_at_minute)} | {_rates(r.estimate_at_minute)} ({limit / 60:g}) |")


if __name__ == "__main__":
    main(sys.argv[1:])
