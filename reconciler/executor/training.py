"""Training transitions: `--wait` follows the models started in this run until each one
ends; `settle_transition` starts/stops training tolerating a lost answer;
`wait_until_stopped` waits out `Stopping` before a delete.

A status bria does not know (e.g. `Deleted`, or one added to the API later) ends the
following of that model: it is reported as it is, not recorded in state, and never polled
forever.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from reconciler.api import errors
from reconciler.api.protocol import ApiObject, BriaApi
from reconciler.executor import records
from reconciler.executor.calls import Cancelled
from reconciler.executor.context import RunContext
from reconciler.executor.lookup import Caller
from reconciler.executor.records import StepFailed
from reconciler.model import split_address
from reconciler.status import FINAL, RUNNING, ModelStatus, is_known


def _followed_to_its_end(status: str) -> bool:
    return status in FINAL or not is_known(status)


async def follow_training(ctx: RunContext, addresses: list[str], timeout: float | None = None) -> Mapping[str, str]:
    """Poll get_model for each address until every model is final (or has a status bria does
    not know), the run is cancelled, or `timeout` seconds (of ctx.clock) have passed. Records
    each observed status in state; returns address → last observed status (not all final
    when cancelled or timed out)."""
    keys = {addr: split_address(addr)[1] for addr in addresses}
    statuses = {addr: ctx.holder.state.models[key].status for addr, key in keys.items()
                if key in ctx.holder.state.models}
    started = ctx.clock.monotonic()
    try:
        while True:
            for addr, status in list(statuses.items()):
                if not _followed_to_its_end(status):
                    statuses[addr] = await _observe(ctx, keys[addr])
            ctx.reporter.training(statuses, ctx.clock.monotonic() - started)
            if all(_followed_to_its_end(s) for s in statuses.values()):
                return statuses
            elapsed = ctx.clock.monotonic() - started
            if timeout is not None and elapsed >= timeout:
                return statuses
            pause = ctx.poll_interval if timeout is None else min(ctx.poll_interval, timeout - elapsed)
            await ctx.calls.pause(ctx.clock, pause)
    except Cancelled:
        return statuses


async def _observe(ctx: RunContext, key: str) -> str:
    model = ctx.holder.state.models[key]
    remote = await ctx.calls(ctx.api.get_model, model.remote_id)
    status = remote.get("status") or model.status
    if not is_known(status):
        return str(status)   # reported, not recorded: state keeps the last status bria understood
    prefix = remote.get("generation_prefix") or model.generation_prefix
    if (status, prefix) != (model.status, model.generation_prefix):
        await ctx.holder.update(lambda s: records.change_model(s, key, status=status, generation_prefix=prefix))
    return status


async def settle_transition(call: Caller, api: BriaApi, model_id: int, method: Callable[..., Awaitable[ApiObject]],
                            reached: tuple[str, ...], *call_args: Any) -> ApiObject:
    """Start/stop training, tolerating an earlier call whose response was lost.

    start/stop are POSTs, so the client does not retry them. If the call conflicts (an
    earlier run already did it) or its outcome is unknown, the model's status tells whether
    it took effect; when it plainly did not, the call is made once more.
    """
    try:
        return await call(method, *call_args)
    except (errors.Conflict, errors.TransportError, errors.ServerError) as exc:
        remote = await call(api.get_model, model_id)
        if remote.get("status") in reached:
            return remote
        if isinstance(exc, errors.Conflict):
            raise
        return await call(method, *call_args)


async def wait_until_stopped(ctx: RunContext, model_id: int) -> None:
    started, delay = ctx.clock.monotonic(), min(0.5, ctx.poll_interval)
    while (status := (await ctx.calls(ctx.api.get_model, model_id)).get("status")) == ModelStatus.STOPPING:
        if ctx.clock.monotonic() - started > ctx.config.stop_timeout:
            raise StepFailed(f"model {model_id} still Stopping after {ctx.config.stop_timeout:.0f}s")
        await ctx.calls.pause(ctx.clock, delay)
        delay = min(delay * 2, ctx.poll_interval)
    if status in RUNNING:
        raise StepFailed(f"model {model_id} is {status}; stop its training before deleting it")
