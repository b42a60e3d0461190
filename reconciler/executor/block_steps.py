"""Handlers for the state-only steps of `moved`, `import` and `removed` blocks.

Each is idempotent, so a resumed apply can run it again: a move already made, an object
already imported, a record already forgotten are left as they are. Only the import reads
the API (through ctx.calls); none of them mutates it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.executor.context import RunContext
from reconciler.executor.importing import ImportRefused, import_resource
from reconciler.executor.records import StepFailed
from reconciler.model import Op
from reconciler.stepargs import ImportResourceArgs, MoveAddressArgs, RemoveFromStateArgs
from reconciler.state.moves import move_resource

if TYPE_CHECKING:
    from reconciler.executor.steps import ChangeRun


async def move_address(ctx: RunContext, run: "ChangeRun", args: MoveAddressArgs) -> None:
    source, destination = args.from_address, args.to_address

    def move(state: Any) -> Any:
        if state.get(source) is None and state.get(destination) is not None:
            return state            # already moved (a resumed apply)
        return move_resource(state, source, destination)

    await ctx.holder.update(move)


class _ReadsThroughCalls:
    """The reads import_resource makes, each through ctx.calls with a bound ctx.api method (so
    they are counted, bounded and cancellable like every other call of the run)."""

    def __init__(self, ctx: RunContext):
        self._ctx = ctx

    async def get_project(self, remote_id: int) -> Any:
        return await self._ctx.calls(self._ctx.api.get_project, remote_id)

    async def get_dataset(self, remote_id: int) -> Any:
        return await self._ctx.calls(self._ctx.api.get_dataset, remote_id)

    async def list_images(self, remote_id: int) -> Any:
        return await self._ctx.calls(self._ctx.api.list_images, remote_id)

    async def get_model(self, remote_id: int) -> Any:
        return await self._ctx.calls(self._ctx.api.get_model, remote_id)


async def import_object(ctx: RunContext, run: "ChangeRun", args: ImportResourceArgs) -> None:
    remote_id = int(args.remote_id or 0)
    current = ctx.holder.state.get(run.address)
    if current is not None:
        return                      # imported by an earlier, interrupted apply
    if ctx.manifest is None:
        raise StepFailed(f"{run.address}: importing needs the manifest")
    try:
        imported = await import_resource(ctx.manifest, ctx.holder.state, _ReadsThroughCalls(ctx),  # type: ignore[arg-type]
                                         run.address,
                                         remote_id)
    except ImportRefused as exc:
        raise StepFailed(f"import {run.address} (id {remote_id}): {exc}") from None
    record = imported.get(run.address)
    await ctx.holder.update(lambda s: s.with_resource(run.address, record) if s.get(run.address) is None else s)


async def remove_from_state(ctx: RunContext, run: "ChangeRun", args: RemoveFromStateArgs) -> None:
    def forget(state: Any) -> Any:
        state = state.with_resource(run.address, None)
        for entry in [e for e in state.journal if e.address == run.address]:
            state = state.without_journal_entry(entry.id)
        return state

    await ctx.holder.update(forget)


BLOCK_HANDLERS = {Op.MOVE_ADDRESS: move_address, Op.IMPORT_RESOURCE: import_object,
                  Op.REMOVE_FROM_STATE: remove_from_state}
