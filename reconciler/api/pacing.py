"""Adaptive request pacing, shared by every concurrent caller of one client.

Bria limits requests per endpoint per minute and documents no rate headers, so the client
learns the limit from 429s, the way TCP learns a path's capacity (AIMD):

- an endpoint starts unpaced;
- a 429 cuts its allowed rate (multiplicative decrease). The first cut starts from the
  success rate measured just before it; later cuts halve the current rate. Only a 429 for a
  request sent *after* the previous cut counts, so a burst of in-flight 429s cuts once;
- each run of successes raises the rate by a fixed step (additive increase); past
  `unlimited_above` the endpoint is unpaced again;
- `Retry-After` pauses the endpoint for every caller until that time.

Each request awaits `wait_turn(key)` before sending; turns are handed out as evenly spaced
time slots, so concurrent callers share the rate instead of each probing the limit.
The clock and sleep are injected so the pacing rules can be tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PacingConfig:
    """Tuning of the AIMD pacer. Rates are requests per second."""

    decrease_factor: float = 0.5
    increase_every: int = 3  # successes in a row that earn one additive step
    increase_fraction: float = 0.1  # step size, as a fraction of the rate that hit the limit
    min_rate: float = 1.0 / 60.0
    unlimited_above: float = 50.0
    estimate_window: float = 10.0  # seconds of history behind the first estimate
    min_estimate_span: float = 1.0  # limits are per minute: never estimate from < 1 s


@dataclass
class _EndpointPace:
    """Mutable pacing state of one endpoint key (private to the pacer)."""

    rate: float | None = None  # None = unpaced
    next_slot: float = 0.0
    paused_until: float = 0.0
    last_decrease_at: float = float("-inf")
    success_run: int = 0
    step: float = 0.0
    successes: deque[float] = field(default_factory=deque)


class AdaptivePacer:
    """Spaces requests per endpoint key and adapts the spacing to 429 responses."""

    def __init__(
        self,
        config: PacingConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._config = config or PacingConfig()
        self._clock = clock
        self._sleep = sleep
        self._endpoints: dict[str, _EndpointPace] = {}

    def rate(self, key: str) -> float | None:
        """Allowed requests per second for `key`; None when unpaced."""
        return self._pace(key).rate

    async def wait_turn(self, key: str) -> float:
        """Wait until `key` may send; returns the clock time of the granted slot.

        The slot is reserved before sleeping (no await in between), so concurrent callers
        get distinct, evenly spaced slots.
        """
        pace = self._pace(key)
        now = self._clock()
        slot = max(now, pace.next_slot, pace.paused_until)
        interval = 0.0 if pace.rate is None else 1.0 / pace.rate
        pace.next_slot = slot + interval
        if slot > now:
            await self._sleep(slot - now)
        return slot

    def record_success(self, key: str) -> None:
        """A request on `key` was not rate limited."""
        pace = self._pace(key)
        now = self._clock()
        pace.successes.append(now)
        self._forget_old(pace, now)
        if pace.rate is None:
            return
        pace.success_run += 1
        if pace.success_run >= self._config.increase_every:
            pace.success_run = 0
            pace.rate += pace.step
            if pace.rate > self._config.unlimited_above:
                pace.rate = None

    def record_rate_limited(
        self, key: str, sent_at: float, retry_after: float | None = None
    ) -> None:
        """A request on `key`, sent at clock time `sent_at`, got a 429."""
        pace = self._pace(key)
        now = self._clock()
        if retry_after is not None:
            pace.paused_until = max(pace.paused_until, now + retry_after)
        if sent_at < pace.last_decrease_at:
            return  # sent before the last cut: that cut already accounts for it
        limited_rate = pace.rate if pace.rate is not None else self._measured_rate(pace, now)
        pace.rate = max(self._config.min_rate, limited_rate * self._config.decrease_factor)
        pace.step = max(self._config.min_rate, limited_rate * self._config.increase_fraction)
        pace.success_run = 0
        pace.last_decrease_at = now
        # Re-space slots already handed out at the old rate from now on.
        pace.next_slot = max(now, pace.paused_until) + 1.0 / pace.rate

    def _measured_rate(self, pace: _EndpointPace, now: float) -> float:
        self._forget_old(pace, now)
        # Limited before any success: assume one success per estimate span.
        if not pace.successes:
            return 1.0 / self._config.min_estimate_span
        span = max(now - pace.successes[0], self._config.min_estimate_span)
        return len(pace.successes) / span

    def _forget_old(self, pace: _EndpointPace, now: float) -> None:
        horizon = now - self._config.estimate_window
        while pace.successes and pace.successes[0] < horizon:
            pace.successes.popleft()

    def _pace(self, key: str) -> _EndpointPace:
        return self._endpoints.setdefault(key, _EndpointPace())
