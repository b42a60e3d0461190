"""Adaptive request pacing, shared by every concurrent caller of one client.

Bria limits requests per endpoint per minute and documents no rate headers, so the client
learns each endpoint's limit from 429s. A per-minute limit behaves like a token bucket: a
429 means the bucket was empty when that request arrived, and between two moments when it
was empty exactly the tokens that flowed in were spent. So the successes sent between two
429s, over the time between them, measure the limit (a count is ± 1: N successes measure
it within 1/N; tokens that overflowed a full bucket were not spent, so a span in which the
client sent less than the limit measures low). The rules, per endpoint:

- It starts unpaced: with no limit known the pacer stays out of the way — unless another
  endpoint of the client already met its limit: Bria's limits are per endpoint but the
  same number for each, so it starts paced at that one's.
- The first 429 ends the opening burst; the requests already in flight answer 429 too, but
  they were sent before the cut and count no more. The first rate is a guess, `margin`
  under the limit the opening's successes suggest: a bucket's burst of about
  `burst_seconds` of refill (the emulator's default), plus what flowed in meanwhile.
  Successes answered after that 429 raise the guess.
- Each later 429 for a request sent after the previous cut:
  - right after another one, nothing got through between (within `burst_seconds`): the
    rate was far too high (a guess from a large burst): it is halved;
  - after another one, nothing got through between nor since the oldest recent 429: not
    a rate but a lockout (a counter per minute that ran out, another client holding the
    bucket): the endpoint waits as long again at the same pace, rather than crawling;
  - within `span_horizon` of the previous one, if less got through since the oldest
    recent 429 than the pace sent: that span measures the limit (the longest recent span:
    the most precise), and the endpoint is paced `margin` under it. A measurement over
    fewer than `trusted_count` successes cuts by at most `max_rough_cut`;
  - otherwise everything sent got through, so the pace only now met the limit — or a
    request met the bucket early, jitter in its timing that a bucket of one token cannot
    absorb: the pace steps down by a margin that doubles with each such 429 in the last
    `noise_window` seconds (up to `max_margin`), so that jitter costs a few 429s, not one
    a minute. A lone 429 after a quiet span lands here too: a span that long includes the
    time spent under the limit after the last cut and would measure low.
  A figure over `trusted_count` successes or more is trusted (`estimate()`).
- Between 429s the rate probes upwards, to find a limit that rose or was underestimated:
  by `probe_start` of the rate per success at first, a step that doubles every
  `probe_doubling_guess` successes after a guess; after a trusted figure by
  `probe_start_measured`, doubling every `probe_doubling_measured` (a correct estimate
  then costs a 429 every few minutes; a far too low guess is corrected within a minute or
  two). Probing is clocked by successes, not by the wall clock, so an idle endpoint does
  not creep up. Past `unlimited_above`, and twice the limit it last assumed, the endpoint
  is unpaced again.
- `Retry-After`, when a 429 has one, pauses the endpoint for every caller until then.

Each request awaits `wait_turn(key)` before sending. A turn is granted when one interval
(1 / rate) has passed since the previous grant, so requests are evenly spaced, never
bursty; waiters re-check after sleeping, so a rate change applies at once to everyone
already waiting. Concurrent callers thus share the rate instead of each probing the limit.
The clock and sleep are injected: benchmarks/pacing_sim.py and tests/test_pacing.py run
the pacer against the emulator's own token bucket on a simulated clock.

Known limits: two clients on one account's bucket are not made fair (each measures only its
own share; at a bucket of one token the one that paces first keeps most of it), and a
counter per minute without `Retry-After` is followed well under its limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from bisect import bisect_right, insort
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

logger = logging.getLogger("bria.api")

@dataclass(frozen=True)
class PacingConfig:
    """Tuning of the pacer. Rates are requests per second."""

    margin: float = 0.01  # pace this fraction under a measured limit
    max_margin: float = 0.08  # the most the margin grows to after unexplained 429s...
    noise_window: float = 300.0  # ...counted over this many seconds
    decrease_factor: float = 0.5  # the cut when nothing could be measured
    max_rough_cut: float = 0.5  # the most a measurement over few successes cuts
    burst_seconds: float = 1.0  # the first guess assumes a bucket of about this much refill
    opening_window: float = 10.0  # an unpaced endpoint's first guess looks back this far
    probe_start: float = 0.0003  # probing starts at + this fraction of the rate per success...
    probe_doubling_guess: float = 100.0  # ...and doubles every this many successes
    probe_start_measured: float = 0.00005  # the same after a trusted measurement
    probe_doubling_measured: float = 300.0
    min_rate: float = 1.0 / 60.0
    unlimited_above: float = 50.0
    trusted_count: int = 20  # a measurement over this many successes is trusted (± 5%)
    max_spans: int = 8  # a measurement looks back over at most this many recent 429s...
    span_horizon: float = 20.0  # ...sent within this many seconds (the latest always counts)
    max_history: int = 200_000  # success times kept (a bound on memory, ~2 MB)


@dataclass
class _EndpointPace:
    """Mutable pacing state of one endpoint key (private to the pacer)."""

    rate: float | None = None  # None = unpaced
    base_rate: float = 0.0  # the rate set by the last cut; probing grows from it
    probed_for: int = 0  # successes since the last cut
    last_grant: float = float("-inf")
    paused_until: float = 0.0
    last_cut_at: float = float("-inf")
    first_sent_at: float | None = None  # the opening burst's first grant
    opening_span: float = 0.0  # burst_seconds + the opening's length, while guessing
    opening_successes: int = 0  # the opening's successes, counting those answered late
    guessing: bool = False  # the rate is the opening's guess, not a measurement
    limited_before: bool = False  # this endpoint has had a 429
    empty_at: deque[float] = field(default_factory=deque)  # recent 429s' send times: empty bucket
    noise_at: deque[float] = field(default_factory=deque)  # recent 429s the pace did not explain
    limited_rate: float = 0.0  # the limit the last cut assumed
    estimate: float | None = None  # the last trusted measurement of the limit
    successes: deque[float] = field(default_factory=deque)  # send times, ascending


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
        # Bria's limits are per endpoint but the same for every endpoint of a plan: once
        # one endpoint's limit is known, another that was never limited starts at it
        # instead of opening with a burst (a guess, probed upwards like any other).
        self._shared_limit: float | None = None

    def rate(self, key: str) -> float | None:
        """Allowed requests per second for `key`; None when unpaced."""
        return self._pace(key).rate

    def estimate(self, key: str) -> float | None:
        """The last trusted measurement of `key`'s limit (requests per second), if any."""
        return self._pace(key).estimate

    async def wait_turn(self, key: str) -> float:
        """Wait until `key` may send; returns the clock time of the grant (the `sent_at`
        to report the outcome with)."""
        pace = self._pace(key)
        if pace.rate is None and not pace.limited_before and self._shared_limit is not None:
            self._set_base(pace, self._shared_limit * (1.0 - self._config.margin))
        while True:
            now = self._clock()
            interval = 0.0 if pace.rate is None else 1.0 / pace.rate
            earliest = max(pace.last_grant + interval, pace.paused_until)
            if now >= earliest:
                pace.last_grant = now
                if pace.first_sent_at is None:
                    pace.first_sent_at = now
                return now
            await self._sleep(earliest - now)

    def record_success(self, key: str, sent_at: float | None = None) -> None:
        """A request on `key`, granted at clock time `sent_at` (default: now), was not
        rate limited."""
        pace = self._pace(key)
        sent_at = self._clock() if sent_at is None else sent_at
        self._remember_success(pace, sent_at)
        if pace.rate is None:
            return
        if sent_at <= pace.last_cut_at:
            if pace.guessing:  # a success of the opening burst answered after its first 429
                pace.opening_successes += 1
                if pace.first_sent_at is not None:
                    pace.opening_span = max(pace.opening_span,
                                            self._config.burst_seconds + sent_at - pace.first_sent_at)
                self._set_base(pace, max(pace.base_rate, self._opening_guess(pace)))
            return
        pace.probed_for += 1
        pace.rate = pace.base_rate * (1.0 + self._probe_gain(pace))
        if pace.rate > max(self._config.unlimited_above, 2 * pace.limited_rate):
            self._forget(pace)

    def record_rate_limited(
        self, key: str, sent_at: float, retry_after: float | None = None
    ) -> None:
        """A request on `key`, granted at clock time `sent_at`, got a 429."""
        pace = self._pace(key)
        now = self._clock()
        if retry_after is not None:
            pace.paused_until = max(pace.paused_until, now + retry_after)
        if sent_at <= pace.last_cut_at:
            return  # sent before the last cut: that cut already accounts for it
        if pace.rate is None:
            self._cut_after_opening(pace, sent_at)
        elif not pace.empty_at:  # paced from another endpoint's limit: it met its own
            self._set_base(pace, pace.rate * (1.0 - self._config.margin), limit=pace.rate)
        else:
            self._cut_after_measuring(pace, sent_at)
        pace.limited_before = True
        self._shared_limit = pace.limited_rate
        logger.debug("pacing %s at %.3f/s after a 429 (limit estimate %s)", key, pace.rate,
                     "none yet" if pace.estimate is None else f"{pace.estimate:.3f}/s")
        self._remember_empty(pace, sent_at)
        pace.last_cut_at = now
        pace.last_grant = now  # the next turn is one new interval from now

    def _cut_after_opening(self, pace: _EndpointPace, sent_at: float) -> None:
        first = sent_at if pace.first_sent_at is None else pace.first_sent_at
        pace.opening_span = self._config.burst_seconds + max(0.0, sent_at - first)
        pace.opening_successes = len(pace.successes)
        pace.guessing = True
        pace.estimate = None
        self._set_base(pace, self._opening_guess(pace))

    def _cut_after_measuring(self, pace: _EndpointPace, sent_at: float) -> None:
        config = self._config
        assert pace.rate is not None and pace.empty_at
        previous = pace.empty_at[-1]
        pace.guessing = False
        in_a_row = not self._successes_between(pace, previous, sent_at)
        if in_a_row and sent_at - previous < config.burst_seconds:
            pace.estimate = None  # 429s in a row: far too fast
            self._set_base(pace, pace.rate * config.decrease_factor)
            return
        measured, count = self._measure(pace, sent_at)
        if in_a_row and not count:
            # Nothing got through for a while although the pace is low: not a rate but a
            # lockout (a counter per minute that ran out, another client on the bucket).
            # Cutting further would only crawl; wait as long again, at the same pace.
            pace.paused_until = max(pace.paused_until, self._clock() + (sent_at - pace.empty_at[0]))
            return
        if sent_at - previous <= config.span_horizon and measured < pace.rate:
            # Less got through than was sent: the limit, measured — roughly, over a few
            # successes, so then the cut is bounded (a streak of 429s goes on measuring).
            if count < config.trusted_count:
                measured = max(measured, pace.rate * (1.0 - config.max_rough_cut))
            limit, margin = measured, config.margin
        else:
            # All that was sent got through: the pace only now met the limit (or a request
            # met the bucket early: jitter in its timing, which a small bucket cannot absorb).
            # A lone 429 after a quiet span lands here too.
            limit, margin = pace.rate, self._noise_margin(pace, sent_at)
            count = self._successes_between(pace, previous, sent_at)
        if count >= config.trusted_count:
            pace.estimate = limit
        self._set_base(pace, limit * (1.0 - margin), limit=limit)

    def _noise_margin(self, pace: _EndpointPace, sent_at: float) -> float:
        """The margin after a 429 the pace did not explain (jitter in when requests reach a
        bucket too small to absorb it): `margin`, doubled for each such 429 in the last
        `noise_window` seconds, at most `max_margin`."""
        config = self._config
        noises = pace.noise_at
        noises.append(sent_at)
        while noises[0] < sent_at - config.noise_window:
            noises.popleft()
        return min(config.max_margin, config.margin * 2.0 ** (len(noises) - 1))

    def _measure(self, pace: _EndpointPace, sent_at: float) -> tuple[float, int]:
        """(the limit as measured since the oldest recent 429, the successes it counts).

        The bucket was empty at both ends of the span, so what got through in between is
        what flowed in: N successes say the limit is at most (N + 1) / span (a count is
        ± 1). The longest recent span is the most precise. It measures low where the pace
        was under the limit for a while (after a cut; the bucket may have overflowed then),
        which is why recent means within `span_horizon`: a 429 after a longer quiet span is
        taken as the pace meeting the limit instead."""
        start = pace.empty_at[0]
        if start >= sent_at:
            return math.inf, 0
        count = self._successes_between(pace, start, sent_at)
        return (count + 1) / (sent_at - start), count

    def _remember_empty(self, pace: _EndpointPace, sent_at: float) -> None:
        """Keep the recent 429s (a streak of them measures the limit over its whole length)
        and the successes sent since the oldest."""
        empties = pace.empty_at
        empties.append(sent_at)
        while len(empties) > self._config.max_spans or (
                len(empties) > 1 and empties[0] < sent_at - self._config.span_horizon):
            empties.popleft()
        while pace.successes and pace.successes[0] <= empties[0]:
            pace.successes.popleft()  # spans start no earlier: older successes count no more

    def _set_base(self, pace: _EndpointPace, rate: float, *, limit: float | None = None) -> None:
        """Pace at `rate` from now on and restart probing from there."""
        pace.base_rate = max(self._config.min_rate, rate)
        pace.rate = pace.base_rate
        pace.probed_for = 0
        pace.limited_rate = pace.base_rate if limit is None else limit

    def _opening_guess(self, pace: _EndpointPace) -> float:
        """The rate to start pacing at when nothing has been measured yet, `margin` under
        the limit the opening burst suggests. Its successes (at least one) were the bucket's
        burst — about `burst_seconds` of refill — plus the whole tokens that flowed in
        during the opening. Under one token flowed in: the burst alone tells the rate.
        Otherwise the count over the whole span, short by half a token on average."""
        count = max(1, pace.opening_successes)
        burst = self._config.burst_seconds
        opening = pace.opening_span - burst
        if count / burst * opening < 1.0:
            limit = count / burst
        else:
            limit = (count + 0.5) / pace.opening_span
        return limit * (1.0 - self._config.margin)

    def _probe_gain(self, pace: _EndpointPace) -> float:
        """How far above the base rate probing has gone after `probed_for` successes: the
        sum of steps that start at `probe_start` and double every `probe_doubling_*`."""
        config = self._config
        if pace.estimate is None:
            start, doubling = config.probe_start, config.probe_doubling_guess
        else:
            start, doubling = config.probe_start_measured, config.probe_doubling_measured
        exponent = min(pace.probed_for / doubling, 60.0)  # far past unlimited_above anyway
        return start * doubling / math.log(2) * (2.0**exponent - 1.0)

    def _forget(self, pace: _EndpointPace) -> None:
        """Unpaced again (the limit is gone or far above): measurements start over."""
        pace.rate = None
        pace.estimate = None
        pace.guessing = False
        pace.empty_at.clear()
        pace.first_sent_at = None
        pace.successes.clear()

    def _successes_between(self, pace: _EndpointPace, start: float, end: float) -> int:
        sends = pace.successes
        return bisect_right(sends, end) - bisect_right(sends, start)

    def _remember_success(self, pace: _EndpointPace, sent_at: float) -> None:
        successes = pace.successes
        if successes and sent_at < successes[-1]:
            insort(successes, sent_at)  # answers come back out of order, but only slightly
        else:
            successes.append(sent_at)
        if pace.rate is None:  # unpaced: only a recent opening is kept for the first guess
            horizon = successes[-1] - self._config.opening_window
            while successes[0] < horizon:
                successes.popleft()
            if pace.first_sent_at is not None:
                pace.first_sent_at = max(pace.first_sent_at, horizon)
        elif len(successes) > self._config.max_history:
            successes.popleft()

    def _pace(self, key: str) -> _EndpointPace:
        return self._endpoints.setdefault(key, _EndpointPace())
