"""Adaptive request pacing, shared by every concurrent caller of one client.

Bria limits requests per endpoint per minute and documents no rate headers, so the client
learns each endpoint's limit from 429s. A per-minute limit behaves like a token bucket:
a 429 means the bucket was empty when that request arrived, and between two moments when
it was empty exactly the tokens that flowed in were spent. So the successes sent between
two 429s, divided by the time between them, measure the limit (never over it: tokens that
overflowed a full bucket were not spent). The pacer works from that measurement:

- an endpoint starts unpaced (no limit known: the pacer stays out of the way);
- on a 429 it cuts the endpoint's rate to just under the limit it measured — the successes
  sent since the previous 429 over the time since, when there were at least
  `min_estimate_count` (a count is ± 1) — and never above the rate it was limited at. A
  measurement over at least `min_estimate_span` is trusted (see probing below). With too
  few successes to measure: on the first 429 it paces at a guess (the successes of the
  last second, or half the sends if more: a burst's first 429 may come back before its
  successes; the guess is blurred by the bucket's initial burst); on a later 429 it halves
  the rate. Only a 429 for a request sent *after* the previous cut counts, so a burst of
  in-flight 429s cuts once;
- between 429s the rate creeps up, to find a limit that rose or was underestimated: after a
  trusted measurement by `probe_per_second` of the limit per second (slowly: just over the
  limit the bucket drains slowly, so a probe costs about one 429); otherwise by
  `explore_per_second` of the rate per second (a guess may be far too low). Past
  `unlimited_above`, and twice the rate it was limited at, the endpoint is unpaced again;
- `Retry-After` pauses the endpoint for every caller until that time.

Each request awaits `wait_turn(key)` before sending. A turn is granted when one interval
(1 / rate) has passed since the previous grant, so requests are evenly spaced, never
bursty; waiters re-check after sleeping, so a rate change applies at once to everyone
already waiting. Concurrent callers thus share the rate instead of each probing the limit.
The clock and sleep are injected so the pacing rules can be tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PacingConfig:
    """Tuning of the pacer. Rates are requests per second."""

    margin: float = 0.05  # pace this fraction under a measured limit
    decrease_factor: float = 0.5  # the cut when no limit could be measured
    probe_per_second: float = 0.005  # after a trusted measurement: + this × the limit per second
    explore_per_second: float = 0.25  # otherwise: + this × the rate per second
    min_rate: float = 1.0 / 60.0
    unlimited_above: float = 50.0
    guess_span: float = 1.0  # the first guess counts the successes of the last second
    min_estimate_span: float = 1.0  # a measurement over less is not trusted
    min_estimate_count: int = 3  # fewer successes than this measure nothing
    history: float = 60.0  # seconds of success history kept for the measurements


@dataclass
class _EndpointPace:
    """Mutable pacing state of one endpoint key (private to the pacer)."""

    rate: float | None = None  # None = unpaced
    last_grant: float = float("-inf")
    paused_until: float = 0.0
    last_cut_at: float = float("-inf")
    last_limited_sent_at: float | None = None  # when the bucket was last known empty
    limited_rate: float = 0.0  # the rate of the last cut, before the margin
    estimate: float | None = None  # the last measurement of the limit, if reliable
    sends: deque[float] = field(default_factory=deque)  # grant times, last `guess_span`
    successes: deque[float] = field(default_factory=deque)  # their send times, ascending


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

    def estimate(self, key: str) -> float | None:
        """The last reliable measurement of `key`'s limit (requests per second), if any."""
        return self._pace(key).estimate

    async def wait_turn(self, key: str) -> float:
        """Wait until `key` may send; returns the clock time of the grant (the `sent_at`
        to report the outcome with)."""
        pace = self._pace(key)
        while True:
            now = self._clock()
            interval = 0.0 if pace.rate is None else 1.0 / pace.rate
            earliest = max(pace.last_grant + interval, pace.paused_until)
            if now >= earliest:
                pace.last_grant = now
                pace.sends.append(now)
                while pace.sends[0] < now - self._config.guess_span:
                    pace.sends.popleft()
                return now
            await self._sleep(earliest - now)

    def record_success(self, key: str, sent_at: float | None = None) -> None:
        """A request on `key`, granted at clock time `sent_at` (default: now), was not
        rate limited."""
        pace = self._pace(key)
        self._remember_success(pace, self._clock() if sent_at is None else sent_at)
        if pace.rate is None:
            return
        # Per success: successes come at `rate` per second, so probing adds
        # probe × estimate per second, and exploring adds explore × rate per second.
        config = self._config
        if pace.estimate is not None:
            pace.rate += config.probe_per_second * pace.estimate / pace.rate
        else:
            pace.rate += config.explore_per_second
        if pace.rate > max(config.unlimited_above, 2 * pace.limited_rate):
            pace.rate = None

    def record_rate_limited(
        self, key: str, sent_at: float, retry_after: float | None = None
    ) -> None:
        """A request on `key`, granted at clock time `sent_at`, got a 429."""
        pace = self._pace(key)
        now = self._clock()
        if retry_after is not None:
            pace.paused_until = max(pace.paused_until, now + retry_after)
        if sent_at < pace.last_cut_at:
            return  # sent before the last cut: that cut already accounts for it
        config = self._config
        measured, reliable = self._measure(pace, sent_at)
        if measured is not None:
            limit = measured if pace.rate is None else min(measured, pace.rate)
            pace.rate = limit * (1.0 - config.margin)
        elif pace.rate is None:
            limit = self._first_guess(pace, sent_at)
            pace.rate = limit
        else:
            limit = pace.rate
            pace.rate *= config.decrease_factor
        pace.rate = max(config.min_rate, pace.rate)
        pace.limited_rate = limit
        pace.estimate = measured if reliable else None
        pace.last_limited_sent_at = sent_at
        pace.last_cut_at = now
        pace.last_grant = now  # the next turn is one new interval from now

    def _measure(self, pace: _EndpointPace, sent_at: float) -> tuple[float | None, bool]:
        """(successes per second sent since the previous 429, whether that span is long
        enough to trust); (None, False) without a previous 429 or with fewer than
        `min_estimate_count` successes since (a count is ± 1)."""
        previous = pace.last_limited_sent_at
        if previous is None:
            return None, False
        start = max(previous, sent_at - self._config.history)  # older successes are forgotten
        count = self._successes_between(pace, start, sent_at)
        if count < self._config.min_estimate_count or sent_at <= start:
            return None, False
        return count / (sent_at - start), sent_at - start >= self._config.min_estimate_span

    def _first_guess(self, pace: _EndpointPace, sent_at: float) -> float:
        """The rate to start pacing at on an endpoint's first 429: the successes of the last
        `guess_span`, or a fraction of the sends (responses to the same burst may still be
        on their way), whichever is more (a burst of 8 in 10 ms is 8/s, not 800/s)."""
        span = self._config.guess_span
        successes = self._successes_between(pace, sent_at - span, sent_at + span)
        sends = len(pace.sends) * self._config.decrease_factor
        return max(successes, sends, 1.0) / span

    @staticmethod
    def _successes_between(pace: _EndpointPace, start: float, end: float) -> int:
        sends = pace.successes
        return bisect_right(sends, end) - bisect_right(sends, start)

    def _remember_success(self, pace: _EndpointPace, sent_at: float) -> None:
        successes = pace.successes
        if successes and sent_at < successes[-1]:
            successes.insert(bisect_right(successes, sent_at), sent_at)
        else:
            successes.append(sent_at)
        horizon = successes[-1] - self._config.history
        while successes[0] < horizon:
            successes.popleft()

    def _pace(self, key: str) -> _EndpointPace:
        return self._endpoints.setdefault(key, _EndpointPace())
