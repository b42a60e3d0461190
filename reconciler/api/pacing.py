"""Adaptive request pacing, shared by every concurrent caller of one client.

Bria limits requests per endpoint per minute and documents no rate headers, so the client
learns the limit from 429s, the way TCP learns a path's capacity (AIMD):

- an endpoint starts unpaced;
- a 429 cuts its allowed rate (multiplicative decrease). The first cut starts from the
  send rate measured just before it; later cuts halve the current rate. Only a 429 for a
  request sent *after* the previous cut counts, so a burst of in-flight 429s cuts once;
- each run of successes raises the rate by a fixed step (additive increase); past
  `unlimited_above` the endpoint is unpaced again;
- `Retry-After` pauses the endpoint for every caller until that time.

Each request awaits `wait_turn(key)` before sending. A turn is granted when one interval
(1 / rate) has passed since the previous grant; waiters re-check after sleeping, so a rate
change applies at once to everyone already waiting. Concurrent callers thus share the rate
instead of each probing the limit.
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
    estimate_window: float = 10.0  # seconds of send history behind the first estimate
    min_estimate_span: float = 1.0  # limits are per minute: never estimate from < 1 s


@dataclass
class _EndpointPace:
    """Mutable pacing state of one endpoint key (private to the pacer)."""

    rate: float | None = None  # None = unpaced
    last_grant: float = float("-inf")
    paused_until: float = 0.0
    last_decrease_at: float = float("-inf")
    success_run: int = 0
    step: float = 0.0
    sends: deque[float] = field(default_factory=deque)


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
        """Wait until `key` may send; returns the clock time of the grant."""
        pace = self._pace(key)
        while True:
            now = self._clock()
            interval = 0.0 if pace.rate is None else 1.0 / pace.rate
            earliest = max(pace.last_grant + interval, pace.paused_until)
            if now >= earliest:
                pace.last_grant = now
                pace.sends.append(now)
                self._forget_old(pace, now)
                return now
            await self._sleep(earliest - now)

    def record_success(self, key: str) -> None:
        """A request on `key` was not rate limited."""
        pace = self._pace(key)
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
        """A request on `key`, granted at clock time `sent_at`, got a 429."""
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
        pace.last_grant = now  # the next turn is one new interval from now

    def _measured_rate(self, pace: _EndpointPace, now: float) -> float:
        """Sends per second over the recent window, never measured over less than
        `min_estimate_span` (a burst of 8 sends in 10 ms is 8/s, not 800/s)."""
        self._forget_old(pace, now)
        if not pace.sends:
            return 1.0 / self._config.min_estimate_span
        span = max(now - pace.sends[0], self._config.min_estimate_span)
        return len(pace.sends) / span

    def _forget_old(self, pace: _EndpointPace, now: float) -> None:
        horizon = now - self._config.estimate_window
        while pace.sends and pace.sends[0] < horizon:
            pace.sends.popleft()

    def _pace(self, key: str) -> _EndpointPace:
        return self._endpoints.setdefault(key, _EndpointPace())
