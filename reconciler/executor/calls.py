"""The executor's single door to the API client.

Every API call the executor makes goes through `ApiCalls`, which
- bounds how many calls are in flight at once (`--parallelism`),
- refuses to *start* a call once the run is cancelled (in-flight calls finish),
- before every mutating call (`BriaApi` methods in `MUTATING`), checks that the run still holds its state lock
  (`lock_check`, the store's `check_lock`: raises LockLost — a StateError, which stops the
  run — after e.g. a PostgreSQL force-unlock), and
- counts calls, for the summary and for the crash-test hook below.

Test hook (crash tests only): with `kill_after_calls=N` the process kills itself with
SIGKILL right after the N-th call returns, before its result is recorded in state. That is
the worst moment to die (the server did the work, the state does not know yet), and the
journal must make the next run adopt the object instead of creating a duplicate. The CLI
reads it from the environment variable BRIA_TEST_KILL_AFTER_CALLS; nothing else sets it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable, ParamSpec, TypeVar

from reconciler.api.protocol import MUTATING
from reconciler.executor.clock import Clock

P = ParamSpec("P")
R = TypeVar("R")


class Cancelled(Exception):
    """The run was cancelled (Ctrl-C / SIGTERM); no new API call is started."""


class ApiCalls:
    def __init__(self, *, parallelism: int, cancel_event: asyncio.Event, kill_after_calls: int | None = None,
                 lock_check: Callable[[], None] | None = None):
        self._lock_check = lock_check
        self.parallelism = max(1, parallelism)
        self._slots = asyncio.Semaphore(self.parallelism)
        self._cancel = cancel_event
        self._kill_after = kill_after_calls
        self.count = 0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def stop(self) -> None:
        """Start no new call from now on (as on Ctrl-C)."""
        self._cancel.set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    async def pause(self, clock: Clock, seconds: float) -> None:
        """Sleep on `clock` between polls, waking early (and raising) when cancelled."""
        sleeper = asyncio.ensure_future(clock.sleep(seconds))
        cancelled = asyncio.ensure_future(self._cancel.wait())
        _, pending = await asyncio.wait({sleeper, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        self.check_cancelled()

    async def __call__(self, method: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call `method(*args, **kwargs)` — a bound method of the run's `BriaApi`, e.g.
        `ctx.calls(ctx.api.upload_image, dataset_id, path)` — under the concurrency bound."""
        self.check_cancelled()
        async with self._slots:
            self.check_cancelled()
            return await self._invoke(method, *args, **kwargs)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator["HeldSlot"]:
        """Hold one concurrency slot for a journaled operation: its journal entry is written
        only once the slot is held (so a kill leaves at most `parallelism` entries), and all
        of its calls — the call, a re-read, the lookups — run in that one slot."""
        self.check_cancelled()
        async with self._slots:
            self.check_cancelled()
            yield HeldSlot(self)

    async def unslotted(self, method: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """A read made by a task that already holds a slot (taking another could deadlock)."""
        self.check_cancelled()
        return await self._invoke(method, *args, **kwargs)

    async def _invoke(self, method: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        # Every path (a slot per call, a held slot, a read inside a held slot) comes here.
        if self._lock_check is not None and method.__name__ in MUTATING:
            await asyncio.to_thread(self._lock_check)
        try:
            return await method(*args, **kwargs)
        finally:
            self.count += 1
            if self._kill_after is not None and self.count >= self._kill_after:
                os.kill(os.getpid(), signal.SIGKILL)


class HeldSlot:
    """Calls made inside a held slot. Only the first call checks for cancellation: once a
    journaled operation has started, its follow-up calls (a re-read, a lookup) finish it."""

    def __init__(self, calls: ApiCalls):
        self._calls = calls
        self.started = 0

    @property
    def cancelled(self) -> bool:
        return self._calls.cancelled

    async def __call__(self, method: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        if self.started == 0:
            self._calls.check_cancelled()
        self.started += 1
        return await self._calls._invoke(method, *args, **kwargs)
