"""Looking up what a journaled call did: one lookup, or lookups over a settle window.

A create whose outcome is unknown (a lost response, a 5xx, an undecodable 2xx, a timeout)
may still commit after bria hears back — a gateway answers 504 while the backend commits a
moment later. So a lookup that finds nothing is repeated for `settle_window` seconds (on
the run's clock) before bria concludes the call did nothing. Lists are memoised per
resolution pass (`Listings`): recovering 80 upload entries lists each dataset's images once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Awaitable, Callable

import httpx

from reconciler.api import errors
from reconciler.executor.context import RunContext
from reconciler.api.protocol import BriaApi
from reconciler.model import Op
from reconciler.planner.journal_match import Match, match
from reconciler.state.model import JournalEntry, State
from reconciler.status import ModelStatus, is_deleted

# `call(api.method, *args)`: ApiCalls, a HeldSlot, or ApiCalls.unslotted.
Caller = Callable[..., Awaitable[Any]]
# A model whose training has started (START_TRAINING took effect).
STARTED = frozenset({ModelStatus.IN_PROGRESS, ModelStatus.COMPLETED, ModelStatus.FAILED,
                     ModelStatus.STOPPING, ModelStatus.STOPPED})


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed journaled call may have taken effect. Any 5xx counts (a gateway's 504
    says nothing about the backend), as do a lost response and a 2xx bria could not read
    (`UnexpectedResponse` on the idempotent PUT of COMPLETE_DATASET: the PUT was accepted).
    A plain TransportError is a connection that failed before the request was sent — looked
    up anyway: a lookup is cheap, a wrong "nothing happened" is not."""
    if isinstance(exc, errors.ApiError):
        return exc.outcome_unknown or isinstance(
            exc, (errors.ServerError, errors.TransportError, errors.UnexpectedResponse))
    return isinstance(exc, (ValueError, httpx.DecodingError, httpx.TimeoutException))


class Listings:
    """Memoised list calls for one resolution pass; concurrent callers share one request."""

    def __init__(self, call: Caller):
        self._call = call
        self._pending: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    async def get(self, method: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """`call(method, *args)` once per pass; `method` is a bound `BriaApi` read."""
        key = (method.__name__, *args)
        if key not in self._pending:
            self._pending[key] = asyncio.ensure_future(self._call(method, *args))
        return await self._pending[key]

    def forget(self) -> None:
        self._pending.clear()


async def find_remote(api: BriaApi, entry: JournalEntry, state: State, listings: Listings) -> Match:
    """What the entry's call left in the API (see planner/journal_match.py for the rules)."""
    try:
        if entry.op == Op.CREATE_PROJECT.value:
            return match(entry, await listings.get(api.list_projects), state)
        if entry.op in (Op.CREATE_DATASET.value, Op.CLONE_DATASET.value):
            return match(entry, await listings.get(api.list_project_datasets, entry.parent_id), state)
        if entry.op == Op.CREATE_MODEL.value:
            return match(entry, await listings.get(api.list_models), state)
        if entry.op == Op.UPLOAD_IMAGE.value:
            return match(entry, await listings.get(api.list_images, entry.parent_id), state)
        if entry.op == Op.COMPLETE_DATASET.value:
            dataset = await listings.get(api.get_dataset, entry.parent_id)
            return Match(found=dataset) if dataset.get("status") == "completed" else Match()
        if entry.op == Op.START_TRAINING.value:
            model = await listings.get(api.get_model, entry.parent_id)
            return Match(found=model) if ModelStatus.parse(model.get("status")) in STARTED else Match()
        if entry.op == Op.DELETE_MODEL.value:
            model = await listings.get(api.get_model, entry.parent_id)
            return Match() if is_deleted(model.get("status")) else Match(found=model)
    except errors.NotFound:
        return Match()   # the parent (or the object) is gone, so the object cannot exist
    return Match()


async def settled_lookup(ctx: RunContext, entry: JournalEntry, call: Caller, *, waited: float = 0.0) -> Match:
    """Look the entry's object up; while nothing is found, look again until `settle_window`
    seconds (less `waited`, the time already elapsed since the call) have passed. A
    cancellation while waiting raises `Cancelled` (the entry stays: the outcome is unknown)."""
    settle_window = ctx.config.settle_window
    window = max(0.0, settle_window - waited)
    started = ctx.clock.monotonic()
    interval = max(0.05, min(1.0, settle_window / 5 or 0.05))
    while True:
        found = await find_remote(ctx.api, entry, ctx.holder.state, Listings(call))
        if not found.none or ctx.clock.monotonic() - started >= window:
            return found
        await ctx.calls.pause(ctx.clock, interval)


def age_seconds(ctx: RunContext, entry: JournalEntry) -> float:
    """Seconds since the entry was written, on the run's clock (infinite when unknown: an
    entry without a time comes from an older bria, long ago)."""
    try:
        return max(0.0, (datetime.fromisoformat(ctx.clock.now_iso())
                         - datetime.fromisoformat(entry.started_at)).total_seconds())
    except (TypeError, ValueError):
        return float("inf")
