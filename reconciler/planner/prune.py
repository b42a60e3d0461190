"""`bria prune`: a plan that deletes superseded models — the older models an address kept
when it was replaced (planner/models.py keeps them so nothing that cost training is lost).

Pure. A superseded model that trained (Completed) or is training (InProgress, stopped first)
is protected like any trained model: refused unless allowed (`--allow-destroy ADDR|all`).
Failed, Stopped and never-trained ones hold nothing of value and are not protected.
"""

from __future__ import annotations

from typing import Iterable

from reconciler.model import Action, Change, Op, Plan, Step, split_address
from reconciler.reasons import Reason
from reconciler.state.model import ModelRecord, State
from reconciler.status import ModelStatus
from reconciler.stepargs import DeleteModelArgs, StopTrainingArgs

PROTECTED = (ModelStatus.COMPLETED, ModelStatus.IN_PROGRESS, ModelStatus.STOPPING)
REASON = Reason.DELETE_BECAUSE_SUPERSEDED_AND_PRUNED


def prune_plan(state: State, addresses: Iterable[str], allow_destroy: frozenset[str] | str) -> Plan:
    """Deleting every superseded model of the model `addresses` (keys of state.models)."""
    changes = []
    for addr in addresses:
        record = state.models[split_address(addr)[1]]
        if record.superseded:
            changes.append(_prune_change(addr, record, allow_destroy == "all" or addr in allow_destroy))
    return Plan(changes=tuple(changes), state_lineage=state.lineage, state_serial=state.serial)


def _prune_change(addr: str, record: ModelRecord, allowed: bool) -> Change:
    steps: list[Step] = []
    stops = False
    for old in record.superseded:
        if old.status == ModelStatus.IN_PROGRESS:
            steps.append(Step(Op.STOP_TRAINING, StopTrainingArgs(old.remote_id)))
            stops = True
        steps.append(Step(Op.DELETE_MODEL, DeleteModelArgs(old.remote_id)))
    protected = any(s.status in PROTECTED for s in record.superseded)
    before = {"superseded": [f"#{s.remote_id} {s.status}" for s in record.superseded]}
    return Change(address=addr, actions=((Action.STOP,) if stops else ()) + (Action.DELETE,), reason=REASON,
                  steps=tuple(steps), before=before, after={"superseded": []},
                  protected=protected, refused=protected and not allowed)
