"""Pacing in virtual time: `python -m benchmarks.pacing_sim [LIMIT_PER_MIN:REQUESTS ...]`.

The real AdaptivePacer and RetryPolicy (reconciler/api/) drive `--parallelism` workers that
send REQUESTS on one endpoint with 100 ms latency to the emulator's token bucket (refill
LIMIT/60 per second, capacity max(1, LIMIT/60), 429s without Retry-After), on a simulated
clock: an hour-long apply under 60/min takes a second. It prints the wall time against the
bound (requests beyond the burst ÷ the limit), the share of 429s, and the pacer's rate after
1, 5 and 60 minutes (does the limit estimate converge, and stay). Not a substitute for the
harness's real runs (scenario b): no HTTP, no event-loop costs; it isolates the algorithm.
"""

from __future__ import annotations

import heapq
import itertools
import random
import sys
from typing import Any, Generator

from reconciler.api.pacing import AdaptivePacer, PacingConfig
from reconciler.api.transport import RetryPolicy

KEY = "POST /tailored-gen/datasets/{id}/images"


class _Sleep:
    """What a simulated coroutine awaits: the scheduler resumes it `seconds` later."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __await__(self) -> Generator[float, None, None]:
        yield self.seconds


def simulate(limit_per_minute: float, requests: int, *, parallelism: int = 8, latency: float = 0.1,
             config: PacingConfig | None = None, seed: int = 0) -> dict[str, Any]:
    now = [0.0]
    pacer = AdaptivePacer(config, clock=lambda: now[0], sleep=_Sleep)
    per_second = limit_per_minute / 60
    capacity = max(1.0, per_second)
    bucket = {"tokens": capacity, "at": 0.0}
    policy, rng = RetryPolicy(6, 0.5, 30.0), random.Random(seed)
    left, limited, finished = [requests], [0], [0.0]

    def admitted(at: float) -> bool:
        bucket["tokens"] = min(capacity, bucket["tokens"] + (at - bucket["at"]) * per_second)
        bucket["at"] = at
        if bucket["tokens"] >= 1:
            bucket["tokens"] -= 1
            return True
        return False

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            attempt = 1
            while True:
                sent_at = await pacer.wait_turn(KEY)
                await _Sleep(latency / 2)
                ok = admitted(now[0])
                await _Sleep(latency / 2)
                if ok:
                    pacer.record_success(KEY, sent_at)
                    break
                limited[0] += 1
                pacer.record_rate_limited(KEY, sent_at, None)
                await _Sleep(policy.backoff(attempt, rng))
                attempt += 1
        finished[0] = max(finished[0], now[0])

    order = itertools.count()
    queue = [(0.0, next(order), worker()) for _ in range(parallelism)]
    samples: dict[int, float | None] = {}
    while queue:
        at, _, coroutine = heapq.heappop(queue)
        now[0] = at
        for minute in (1, 5, 60):
            if minute not in samples and at >= minute * 60:
                samples[minute] = pacer.rate(KEY)
        try:
            heapq.heappush(queue, (at + coroutine.send(None), next(order), coroutine))
        except StopIteration:
            pass
    bound = max(0.0, requests - capacity) / per_second
    return {"wall": finished[0], "bound": bound, "ratio": finished[0] / bound, "limited": limited[0],
            "limited_share": limited[0] / requests, "rate_at_minute": samples}


def main(argv: list[str]) -> None:
    cases = argv or ["60:300", "60:3600", "600:2000", "600:36000"]
    print("| limit/min | requests | simulated wall s | bound s | ratio | 429s | rate after 1 / 5 / 60 min (limit/s) |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for case in cases:
        limit, requests = (float(x) for x in case.split(":"))
        r = simulate(limit, int(requests))
        rates = " / ".join("—" if r["rate_at_minute"].get(m) is None else f"{r['rate_at_minute'][m]:.3f}"
                           for m in (1, 5, 60))
        print(f"| {limit:g} | {int(requests)} | {r['wall']:.0f} | {r['bound']:.0f} | {r['ratio']:.3f} | "
              f"{r['limited']} ({r['limited_share'] * 100:.1f}%) | {rates} ({limit / 60:g}) |")


if __name__ == "__main__":
    main(sys.argv[1:])
