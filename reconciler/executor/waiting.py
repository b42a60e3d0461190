"""`bria wait`: follow the training of models already recorded in state until each ends.

The same polling and live view as `apply --wait` (training.follow_training), started from
the state alone — so it re-attaches to trainings an interrupted `apply --wait` left running.
Observed statuses and generation prefixes are written to state as they change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Mapping

from reconciler.executor.calls import ApiCalls
from reconciler.executor.clock import Clock, RealClock
from reconciler.executor.context import RunConfig, RunContext
from reconciler.executor.holder import StateHolder
from reconciler.executor.progress import Reporter
from reconciler.executor.training import FINAL, follow_training
from reconciler.state.model import State
from reconciler.status import ModelStatus, is_known

COMPLETED = ModelStatus.COMPLETED


@dataclass(frozen=True)
class WaitResult:
    statuses: Mapping[str, str]     # address → last observed status
    state: State
    cancelled: bool
    api_calls: int

    @property
    def failed(self) -> list[str]:
        """Ended without a model — Failed, Stopped, or a status bria does not know (e.g. Deleted)."""
        return sorted(a for a, s in self.statuses.items()
                      if s != COMPLETED and (s in FINAL or not is_known(s)))

    @property
    def unfinished(self) -> list[str]:
        return sorted(a for a, s in self.statuses.items() if is_known(s) and s not in FINAL)


async def wait_for_training(state: State, addresses: list[str], *, client: Any, store: Any,
                            reporter: Reporter | None = None, cancel_event: asyncio.Event | None = None,
                            clock: Clock | None = None, poll_interval: float = 5.0,
                            timeout: float | None = None) -> WaitResult:
    """Poll each model address (which must be in `state`) until all have ended, the run is
    cancelled, or `timeout` seconds pass; then stamp `refreshed_at`."""
    clock = clock or RealClock()
    calls = ApiCalls(parallelism=4, cancel_event=cancel_event or asyncio.Event())
    ctx = RunContext(client, calls, StateHolder(store, state), None, clock, reporter or Reporter(),
                     RunConfig(parallelism=4, poll_interval=poll_interval))
    try:
        statuses = await follow_training(ctx, addresses, timeout=timeout)
    finally:
        ctx.reporter.close()
    final = await ctx.holder.update(lambda s: _stamped(s, clock.now_iso()))
    return WaitResult(dict(statuses), final, calls.cancelled, calls.count)


def _stamped(state: State, now_iso: str) -> State:
    from dataclasses import replace

    return replace(state, refreshed_at=now_iso)
