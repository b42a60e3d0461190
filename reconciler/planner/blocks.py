"""The manifest's `moved`, `removed` and `import` blocks in the plan. Pure.

- moved: before planning, state records are moved to their new addresses (state/moves.py), so
  the resource planners see the same remote objects under the new keys and plan no API call
  for them; the move itself becomes a state-only step (MOVE_ADDRESS) at the head of the new
  address's change, which every change that needs the new key depends on.
- import: the CLI reads each object to import and builds the record the import will write
  (executor/importing.py); planning runs as if it were in state, so what differs from the
  manifest is planned in the same plan, after an IMPORT_RESOURCE step.
- removed: `destroy: true` is the permission to destroy that address even when protected (the
  reviewed alternative to --allow-destroy); `destroy: false` turns its removal into a
  state-only REMOVE_FROM_STATE: the remote object is left alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from reconciler.model import Action, Change, Manifest, MovedBlock, Op, Step
from reconciler.planner.context import Findings, PlanError
from reconciler.reasons import Reason
from reconciler.state.model import State
from reconciler.state.moves import MoveError, move_resource

MOVE_REASON = Reason.MOVE_BECAUSE_MOVED_BLOCK
IMPORT_REASON = Reason.IMPORT_BECAUSE_IMPORT_BLOCK
FORGET_REASON = Reason.FORGET_BECAUSE_REMOVED_BLOCK
DESTROY_REASON = Reason.DELETE_BECAUSE_REMOVED_BLOCK


def apply_moves(manifest: Manifest, state: State) -> tuple[State, list[MovedBlock]]:
    """The state with every pending move made, and the moves that were pending (a move whose
    `from` is no longer in state was made by an earlier apply and is ignored)."""
    pending = []
    for block in manifest.moved:
        if state.get(block.from_address) is None:
            continue
        if state.get(block.to_address) is not None:
            raise PlanError(f"moved: both {block.from_address} and {block.to_address} are in the state; "
                            f"`bria state rm` one of them first")
        try:
            state = move_resource(state, block.from_address, block.to_address)
        except MoveError as exc:
            raise PlanError(f"moved: {exc}") from None
        pending.append(block)
    return state, pending


def with_imported(state: State, imported: Mapping[str, Any]) -> State:
    """The state as it will be once the pending imports have recorded their objects."""
    for addr, record in imported.items():
        if state.get(addr) is None:
            state = state.with_resource(addr, record)
    return state


def add_block_changes(manifest: Manifest, state: State, moves: list[MovedBlock], imported: Mapping[str, Any],
                      out: Findings) -> None:
    """Put the blocks' state-only steps into the plan (see the module doc). `state` is the
    state after moves and imports."""
    for block in moves:
        step = Step(Op.MOVE_ADDRESS, {"from": block.from_address, "to": block.to_address})
        _prepend(out, block.to_address, Action.MOVE, step, MOVE_REASON,
                 {"address": block.from_address}, {"address": block.to_address})
    for block in manifest.imports:
        if block.to_address in imported:
            step = Step(Op.IMPORT_RESOURCE, {"remote_id": block.remote_id})
            _prepend(out, block.to_address, Action.IMPORT, step, IMPORT_REASON, None, {"remote_id": block.remote_id})
        elif _remote_id(state.get(block.to_address)) not in (None, block.remote_id):
            out.note(block.to_address, f"{block.to_address}: import id {block.remote_id} ignored: the state already "
                                       f"holds remote {_remote_id(state.get(block.to_address))} there")
    for block in manifest.removed:
        change = out.changes.get(block.address)
        if change is None:
            continue
        if block.destroy:
            out.add(replace(change, reason=DESTROY_REASON) if change.reason.startswith("delete_") else change)
            continue
        out.add(Change(address=block.address, actions=(Action.FORGET,), reason=FORGET_REASON,
                       steps=(Step(Op.REMOVE_FROM_STATE, {"remote_id": _remote_id(state.get(block.address))}),),
                       before=change.before))


def _prepend(out: Findings, addr: str, action: Action, step: Step, reason: Reason,
             before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    change = out.changes.get(addr)
    if change is None or change.actions == (Action.NOOP,):
        out.add(Change(address=addr, actions=(action,), reason=reason, steps=(step,), before=before, after=after))
        return
    out.add(replace(change, actions=(action, *change.actions), steps=(step, *change.steps)))


def _remote_id(record: Any) -> int | None:
    if record is None:
        return None
    if hasattr(record, "versions"):
        return record.current.remote_id if record.current else None
    return int(record.remote_id)
