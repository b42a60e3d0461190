"""Bounded waits for the API, with a visible sign of life.

`within_deadline(work, stats, seconds)` runs read-only API work (a refresh) for at most
`seconds`, then raises `errors.DeadlineExceeded`. While it runs, a line goes to stderr once
the API has been silent for NOTICE_AFTER seconds with a request in flight ("waiting for the
API…"), and again every REPEAT_EVERY seconds of further silence — never to stdout, so JSON
output stays clean. Per-request connect/read timeouts live in the client; this bounds the
whole command however many requests and retries it takes.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Awaitable, TypeVar

import click

if TYPE_CHECKING:   # `bria validate` imports this module and must not pay for httpx
    from reconciler.api.transport import ClientStats

T = TypeVar("T")

DEFAULT_REFRESH_TIMEOUT = 120.0
NOTICE_AFTER = 3.0
REPEAT_EVERY = 10.0
_TICK = 0.25


def refresh_timeout_option(f: Any) -> Any:
    return click.option("--refresh-timeout", type=click.FloatRange(min=0, min_open=True),
                        default=DEFAULT_REFRESH_TIMEOUT, show_default=True, metavar="SECONDS",
                        help="Give up reading the live API after this many seconds.")(f)


async def within_deadline(work: Awaitable[T], stats: "ClientStats", seconds: float) -> T:
    """`await work`, bounded by `seconds`; see the module docstring."""
    from reconciler.api import errors

    watcher = asyncio.create_task(_announce_silence(stats, time.monotonic()))
    try:
        return await asyncio.wait_for(work, seconds)
    except asyncio.TimeoutError:
        raise errors.DeadlineExceeded(
            f"no complete answer from the API within {seconds:g} s (--refresh-timeout); check that "
            "`api.endpoint` (or BRIA_API_URL) is right and the API is reachable, or allow more time "
            "with --refresh-timeout") from None
    finally:
        watcher.cancel()


async def _announce_silence(stats: "ClientStats", started: float) -> None:
    announced_at: float | None = None
    while True:
        await asyncio.sleep(_TICK)
        now = time.monotonic()
        quiet_since = max(started, stats.last_answer or started)
        silent = now - quiet_since
        if stats.in_flight == 0 or silent < NOTICE_AFTER:
            announced_at = None
            continue
        if announced_at is None or now - announced_at >= REPEAT_EVERY:
            click.echo(f"waiting for the API… (no answer for {silent:.0f} s)", err=True)
            announced_at = now
