"""The adaptive pacer (reconciler/api/pacing.py).

Two kinds of tests, none timed: the pacing rules one by one with a fake clock, and the
whole pacer driving concurrent workers against the emulator's own token bucket
(reconciler/emulator/faults.RateLimiter) on a simulated clock (benchmarks/pacing_sim.py),
so that an hour-long apply under 60 requests/minute runs in a fraction of a second and
gives the same figures every time.
"""

from __future__ import annotations

import pytest

from benchmarks.pacing_sim import simulate
from reconciler.api import errors
from reconciler.api.pacing import AdaptivePacer, PacingConfig

KEY = "POST /x"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(clock: FakeClock, **config: float) -> AdaptivePacer:
    return AdaptivePacer(PacingConfig(**config), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


async def _open(pacer: AdaptivePacer, clock: FakeClock, successes: int, *, spread: float = 0.0) -> float:
    """An opening burst: `successes` requests sent over `spread` seconds got through, then
    one sent at the end got a 429. Returns its send time."""
    start = await pacer.wait_turn(KEY)  # unpaced: at once
    for i in range(successes):
        pacer.record_success(KEY, start + spread * i / max(1, successes - 1))
    pacer.record_rate_limited(KEY, sent_at=start + spread)
    return start + spread


# --- the rules, one by one (fake clock) ------------------------------------------------------


async def test_pacer_is_unpaced_until_rate_limited():
    clock = FakeClock()
    pacer = _pacer(clock)
    for _ in range(20):
        await pacer.wait_turn(KEY)
        pacer.record_success(KEY)
    assert clock.slept == []
    assert pacer.rate(KEY) is None


async def test_first_guess_is_the_opening_burst_per_second_and_a_bit():
    """A bucket holds about a second of refill: 10 successes at once mean about 10/s."""
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.01)
    await _open(pacer, clock, 10)
    assert pacer.rate(KEY) == pytest.approx(10 * 0.99)
    assert pacer.estimate(KEY) is None  # a guess, not a measurement


async def test_first_guess_counts_what_flowed_in_during_a_long_opening():
    """12 successes over 0.25 s, then a 429: a 10/s bucket's 10 plus 2.5 refilled, of
    which whole tokens only — 12.5 / 1.25 s. Under one token's refill the burst alone
    counts: one success, then a 429 0.16 s later, is 1/s, not 1/1.16 s."""
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.0)
    await _open(pacer, clock, 12, spread=0.25)
    assert pacer.rate(KEY) == pytest.approx(10.0)
    other = _pacer(clock, margin=0.0)
    sent = await other.wait_turn(KEY)
    other.record_success(KEY, sent)
    other.record_rate_limited(KEY, sent_at=sent + 0.16)
    assert other.rate(KEY) == pytest.approx(1.0)


async def test_an_endpoint_never_limited_starts_at_another_endpoints_limit():
    """Bria's limits are per endpoint but the same number for each: once one endpoint met
    its limit, the next starts paced at it instead of opening with a burst."""
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.01)
    await _open(pacer, clock, 1)  # KEY: about 1/s
    other = "GET /y"
    first = await pacer.wait_turn(other)
    second = await pacer.wait_turn(other)
    assert second - first == pytest.approx(1 / (0.99 * 0.99))
    clock.now += 0.1
    pacer.record_rate_limited(other, sent_at=second)  # it met its own limit: a small step
    assert pacer.rate(other) == pytest.approx(0.99 * 0.99 * 0.99)


async def test_successes_of_the_opening_answered_after_its_429_raise_the_guess():
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.0)
    first = clock.now
    sent = await _open(pacer, clock, 6)
    before = pacer.rate(KEY)
    clock.now += 0.1
    for _ in range(4):  # sent with the 429, answered after it
        pacer.record_success(KEY, sent_at=first)
    assert pacer.rate(KEY) == pytest.approx(before * 10 / 6)


async def test_in_flight_429s_of_the_opening_cut_only_once():
    clock = FakeClock()
    pacer = _pacer(clock)
    sent = [await pacer.wait_turn(KEY) for _ in range(8)]  # all in flight at once
    pacer.record_success(KEY, sent[0])
    clock.now += 0.1
    for sent_at in sent[1:]:
        pacer.record_rate_limited(KEY, sent_at)
    assert pacer.rate(KEY) == pytest.approx(1 * 0.99)  # one got through: about 1/s


async def test_429s_in_a_row_halve_the_rate():
    """Nothing got through between two 429s a moment apart: the guess was far too high
    (a large bucket's burst)."""
    clock = FakeClock()
    pacer = _pacer(clock)
    sent = await _open(pacer, clock, 60)
    guess = pacer.rate(KEY)
    clock.now += 0.2
    pacer.record_rate_limited(KEY, sent_at=sent + 0.15)
    assert pacer.rate(KEY) == pytest.approx(guess / 2)


async def test_a_lone_429_after_a_quiet_span_steps_just_under_the_pace():
    """Everything sent for two minutes got through, then one 429: the pace only now met
    the limit. The span's average would measure low (the pace rose while probing)."""
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.01)
    sent = await _open(pacer, clock, 1)
    pace = pacer.rate(KEY)
    for i in range(1, 120):
        pacer.record_success(KEY, sent + i)
    rate = pacer.rate(KEY)
    assert rate > pace  # it probed upwards meanwhile
    clock.now = sent + 120.1
    pacer.record_rate_limited(KEY, sent_at=sent + 120)
    assert pacer.estimate(KEY) == pytest.approx(rate)
    assert pacer.rate(KEY) == pytest.approx(rate * 0.99)


async def test_unexplained_429s_double_the_margin_up_to_a_cap():
    clock = FakeClock()
    pacer = _pacer(clock, margin=0.01, max_margin=0.04, noise_window=1000.0)
    at = await _open(pacer, clock, 1)
    cuts = []
    for _ in range(4):
        for _ in range(90):
            at += 1.0
            pacer.record_success(KEY, at)
        before = pacer.rate(KEY)
        at += 1.0
        clock.now = at + 0.1
        pacer.record_rate_limited(KEY, sent_at=at)
        cuts.append(1 - pacer.rate(KEY) / before)
    assert cuts == pytest.approx([0.01, 0.02, 0.04, 0.04])


async def test_probing_is_slow_after_a_measurement_and_clocked_by_successes():
    clock = FakeClock()
    pacer = _pacer(clock, probe_start_measured=0.001, probe_doubling_measured=1e9)
    at = await _open(pacer, clock, 1)
    for i in range(1, 60):
        pacer.record_success(KEY, at + i)
    clock.now = at + 60.1
    pacer.record_rate_limited(KEY, sent_at=at + 60)  # lone 429: the limit is the pace
    assert pacer.estimate(KEY) is not None
    start_rate = pacer.rate(KEY)
    clock.now += 3600  # idle for an hour: no successes, no probing (clocked by successes)
    assert pacer.rate(KEY) == start_rate
    start = clock.now
    for _ in range(100):  # 100 successes at the paced rate
        sent = await pacer.wait_turn(KEY)
        pacer.record_success(KEY, sent)
    assert pacer.rate(KEY) / start_rate - 1 == pytest.approx(100 * 0.001)
    assert clock.now - start == pytest.approx(100 / start_rate, rel=0.1)  # they were paced


async def test_far_above_the_limit_it_hit_the_endpoint_is_unpaced_again():
    clock = FakeClock()
    pacer = _pacer(clock, unlimited_above=3.0, probe_start=0.5, probe_doubling_guess=1e9)
    at = await _open(pacer, clock, 1)  # ~1/s
    for i in range(1, 100):
        pacer.record_success(KEY, at + i * 0.01)
        if pacer.rate(KEY) is None:
            break
    assert pacer.rate(KEY) is None


async def test_retry_after_pauses_every_caller():
    clock = FakeClock()
    pacer = _pacer(clock)
    pacer.record_rate_limited(KEY, sent_at=clock.now, retry_after=5.0)
    start = clock.now
    assert await pacer.wait_turn(KEY) >= start + 5.0


def test_never_below_min_rate():
    clock = FakeClock()
    pacer = _pacer(clock, min_rate=0.5)
    for _ in range(10):
        pacer.record_rate_limited(KEY, sent_at=clock.now)
        clock.now += 0.01
    assert pacer.rate(KEY) == pytest.approx(0.5)


# --- the whole pacer against the emulator's token bucket (simulated clock) -------------------


def test_600_per_minute_runs_at_the_limit_and_measures_it_within_the_first_minute():
    result = simulate(600, 2000, parallelism=16, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.02
    assert result.limited_share < 0.02
    assert result.rate_at_minute[1] == pytest.approx(10.0, rel=0.03)
    assert result.estimate_at_minute[1] == pytest.approx(10.0, rel=0.03)


def test_60_per_minute_scaled_down_is_within_the_target():
    """300 uploads at Bria's Starter tier, the harness's 8 in flight: ≤ 1.05× the bound
    and < 3% 429s (the opening burst's 7 — 8 sent, the bucket holds one — and 1 or 2)."""
    result = simulate(60, 300, parallelism=8, jitter=0.0)
    assert result.gave_up == 0
    assert result.ratio <= 1.05
    assert result.limited_share < 0.035
    assert sum(1 for t in result.limited_at if t > 1.0) <= 3


@pytest.mark.parametrize("limit", [60, 600])
def test_an_hour_long_apply_stays_at_the_limit(limit):
    per_second = limit / 60
    result = simulate(limit, limit * 60, parallelism=8, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.04
    assert result.limited_share < 0.01
    for minute in (1, 5, 60):  # converged in the first minute, and stays
        assert result.rate_at_minute[minute] == pytest.approx(per_second, rel=0.04), minute
    assert result.estimate_at_minute[60] == pytest.approx(per_second, rel=0.03)


def test_the_opening_burst_costs_one_round_of_429s_not_a_storm():
    """16 requests start at once into a one-token bucket: 15 429s, and their retries are
    paced, not another round of 429s."""
    result = simulate(60, 300, parallelism=16, jitter=0.0)
    opening = sum(1 for t in result.limited_at if t <= 1.0)
    assert opening <= 16
    assert result.limited - opening <= 3
    assert result.gave_up == 0


def test_a_guess_over_the_limit_is_measured_down_to_it():
    """The first guess made 20% too high on purpose (the bucket's burst taken for 0.83 s of
    refill): the successes between the 429s that follow are what the bucket let through,
    10/s, although more was sent."""
    result = simulate(600, 2000, parallelism=16, jitter=0.1, config=PacingConfig(burst_seconds=10 / 12))
    assert result.gave_up == 0
    assert result.ratio <= 1.02
    assert result.limited_share < 0.02
    assert result.estimate_at_minute[1] == pytest.approx(10.0, rel=0.03)


def test_a_large_bucket_misleads_the_first_guess_only_briefly():
    """A bucket that holds a whole minute (a fixed-window-like limiter): the opening burst
    suggests ~35/s for a 1/s limit; halving then measuring finds it within seconds."""
    result = simulate(60, 300, parallelism=8, burst=60, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.02
    assert sum(1 for t in result.limited_at if t > 60) <= 2  # converged in the first minute
    assert result.rate_at_minute[1] == pytest.approx(1.0, rel=0.05)


def test_retry_after_from_the_emulator_is_honoured_without_losing_pace():
    result = simulate(600, 2000, parallelism=16, retry_after=True, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.05
    assert result.limited_share < 0.02


def test_two_clients_on_one_account_share_600_per_minute():
    result = simulate(600, 4000, parallelism=8, clients=2, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.02
    assert result.limited_share < 0.01
    assert result.rate_at_minute[1] == pytest.approx(5.0, rel=0.1)  # about half each


def test_a_fixed_window_without_retry_after_is_waited_out_not_crawled():
    """After the opening burst has used the minute, everything is refused until it ends:
    nothing gets through whatever the pace, so the pacer waits instead of halving itself
    to a crawl (it did: 29× the bound). Not at the limit either: 1.8×, a known weakness."""
    result = simulate(60, 300, parallelism=8, window=True, jitter=0.2)
    assert result.gave_up == 0
    assert result.ratio <= 2.0


def test_a_fixed_window_with_retry_after_is_followed():
    """The other reading of "60 requests per minute": a counter per minute. Its 429s say how
    long until the minute ends (Retry-After), and the pacer waits that out."""
    result = simulate(60, 300, parallelism=8, window=True, retry_after=True, jitter=0.1)
    assert result.gave_up == 0
    assert result.ratio <= 1.05


# --- the emulator's knob for it ----------------------------------------------------------------


@pytest.mark.parametrize(("window", "let_through"), [(False, 1), (True, 3)])
async def test_emulator_rate_limit_as_a_bucket_or_a_fixed_window(api_harness_factory, window, let_through):
    """At 3/min a bucket holds one request; a window lets the minute's three through at once,
    then refuses until the minute ends."""
    harness = api_harness_factory("asgi", rate_limit=3, rate_window=window, retry_after=True)
    client = harness.client(max_retries=0)
    outcomes = []
    while "429" not in outcomes:
        try:
            await client.list_projects()
            outcomes.append("ok")
        except errors.RateLimited:
            outcomes.append("429")
    assert outcomes == ["ok"] * let_through + ["429"]
    stats = await harness.emulator_stats()
    assert stats["rate_limited"] == 1
    assert client.pacer.rate("GET /tailored-gen/projects") is not None  # and it paces from now on
