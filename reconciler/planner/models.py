"""Planning for models (design.md §3).

A model cannot be retrained or moved: a new dataset version, another training version,
mode or parameters, or a failed/stopped training means a REPLACEMENT — a new model is
created on the dataset's current version and trained; the old remote model is kept and
recorded as superseded. Deleting a trained (or training) model is protected.

Decisions beyond the table of design.md §3:
- A replaced model that never trained (status Created) is deleted, not kept: it holds
  nothing of value, and keeping it would leave one more empty model in the account for
  every dataset version. It is superseded first and deleted right after its successor is
  created, so state never loses the model's history.
- `Stopping` counts as stopped: the API only ever moves it on to `Stopped`, so with
  `train: true` the replacement is planned at once rather than one run later.
- A trained model deleted outside bria is recreated *and trained again* (like Terraform
  recreating a resource deleted behind its back); the reason and a note say so plainly,
  because it costs a new training run.
"""

from __future__ import annotations

from typing import Any, Mapping

from reconciler.model import MODEL_STATUSES, Action, Change, Drift, ModelSpec, Op, Step, address
from reconciler.planner.context import Findings, PlanInputs, changed_fields, same_text
from reconciler.planner.naming import next_version, versioned_name, wanted_name
from reconciler.state.model import ModelRecord

TRAINED = ("Completed", "InProgress")
ENDED_WITHOUT_MODEL = {"Failed": "failed", "Stopped": "stopped", "Stopping": "stopped"}


def plan_models(inputs: PlanInputs, out: Findings) -> None:
    for spec in inputs.manifest.models.values():
        _plan_model(inputs, out, spec)
    for key in sorted(set(inputs.state.models) - set(inputs.manifest.models)):
        _plan_removal(inputs, out, key)


def desired_summary(spec: ModelSpec, trains: bool, dataset_version: int | str | None = None,
                    name: str | None = None) -> dict[str, Any]:
    """The new model, with the same keys as actual_summary() (`dataset_version` only on a
    replacement: the dataset version it will be created on, "new" when made in this plan;
    `name`: the versioned name, when not the manifest's plain one)."""
    summary = {"name": name or spec.name, "description": spec.description, "dataset": spec.dataset,
               "training_version": spec.training_version, "training_mode": spec.training_mode,
               "training_parameters": dict(spec.training_parameters), "status": "InProgress" if trains else "Created"}
    return summary if dataset_version is None else {**summary, "dataset_version": dataset_version}


def actual_summary(record: ModelRecord, live: Mapping[str, Any] | None) -> dict[str, Any]:
    live = live or {}
    return {"remote_id": record.remote_id, "name": live.get("name", record.name),
            "description": live.get("description", record.description), "dataset": record.dataset,
            "dataset_version": live.get("dataset_id", record.dataset_remote_id),
            "training_version": live.get("training_version", record.training_version),
            "training_mode": live.get("training_mode", record.training_mode),
            "training_parameters": dict(record.training_parameters), "status": live.get("status", record.status)}


def _plan_model(inputs: PlanInputs, out: Findings, spec: ModelSpec) -> None:
    record = inputs.state.models.get(spec.key)
    if record is None:
        _create(inputs, out, spec, "create")
        return
    live = inputs.live_model(spec.key)
    before = actual_summary(record, live)
    if live is None:
        out.drift.append(Drift(spec.address, "deleted", record.remote_id))
        _recreate_deleted(inputs, out, spec, record, before)
        return
    if _unknown_status(out, spec.address, record, before):
        return
    dataset_spec = inputs.manifest.datasets.get(spec.dataset)
    if dataset_spec is not None and dataset_spec.project in out.replaced_projects:
        _create(inputs, out, spec, "recreate_because_project_replaced", before, forget=record.remote_id)
        return
    drifted = changed_fields(before, {"name": record.name, "description": record.description},
                             ("name", "description"))
    if drifted:
        out.drift.append(Drift(spec.address, "changed", record.remote_id,
                               {n: {"expected": getattr(record, n), "actual": before[n]} for n in drifted}))
    reason = _replacement_reason(inputs, out, spec, record, before)
    if reason:
        _replace(inputs, out, spec, before, reason)
    else:
        _plan_in_place(inputs, out, spec, record, before, bool(drifted))


def _unknown_status(out: Findings, addr: str, record: ModelRecord, before: dict[str, Any]) -> bool:
    """A status bria does not know: never act on the model (it might be training, billing or
    going away); say so, and plan nothing for it until the status is one bria knows."""
    if before["status"] in MODEL_STATUSES:
        return False
    out.note(addr, f"{addr}: model {record.remote_id} has status {before['status']!r}, which bria does not "
                   "know; nothing is planned for it until the API reports a known status")
    return True


def _dataset_ready(out: Findings, spec: ModelSpec) -> bool:
    return out.completed_after.get(spec.dataset, False)


def _train_steps(out: Findings, spec: ModelSpec) -> list[Step]:
    """START_TRAINING when wanted and possible (the dataset is, or will be, completed)."""
    if not spec.train:
        return []
    if not _dataset_ready(out, spec):
        out.note(spec.address, f"{spec.address}: train: true, but dataset.{spec.dataset} is not completed "
                               "(complete: false); training starts once it is")
        return []
    return [Step(Op.START_TRAINING, {"parameters": dict(spec.training_parameters)})]


def _create_step(spec: ModelSpec, name: str) -> Step:
    return Step(Op.CREATE_MODEL, {"name": name, "description": spec.description, "dataset": spec.dataset,
                                  "training_version": spec.training_version, "training_mode": spec.training_mode})


def _new_model_name(inputs: PlanInputs, spec: ModelSpec) -> str:
    """The plain name for an address's first model; a versioned one for each later model."""
    record = inputs.state.models.get(spec.key)
    if record is None:
        return spec.name
    pattern = inputs.manifest.name_pattern
    return versioned_name(pattern, spec.name, next_version(pattern, record.name, 1 + len(record.superseded)))


def _create(inputs: PlanInputs, out: Findings, spec: ModelSpec, reason: str,
            before: dict[str, Any] | None = None, forget: int | None = None) -> None:
    steps = [Step(Op.FORGET, {"remote_id": forget})] if forget is not None else []
    train = _train_steps(out, spec)
    name = _new_model_name(inputs, spec)
    steps += [_create_step(spec, name), *train]
    actions = (Action.CREATE, Action.TRAIN) if train else (Action.CREATE,)
    out.add(Change(address=spec.address, actions=actions, reason=reason, steps=tuple(steps),
                   before=before, after=desired_summary(spec, bool(train), name=name)))


def _recreate_deleted(inputs: PlanInputs, out: Findings, spec: ModelSpec, record: ModelRecord,
                      before: dict[str, Any]) -> None:
    retrain = spec.train and record.status in TRAINED
    reason = ("recreate_and_retrain_because_deleted_outside_bria" if retrain
              else "recreate_because_deleted_outside_bria")
    _create(inputs, out, spec, reason, before, forget=record.remote_id)
    if retrain and Action.TRAIN in out.changes[spec.address].actions:
        out.note(spec.address, f"{spec.address}: model {record.remote_id} ({record.status}) was deleted outside "
                               "bria; a new model will be created and TRAINED AGAIN (a new training run). "
                               "If that is not wanted, set train: false or remove it from the manifest")


def _replacement_reason(inputs: PlanInputs, out: Findings, spec: ModelSpec, record: ModelRecord,
                        actual: dict[str, Any]) -> str | None:
    dataset = inputs.state.datasets.get(spec.dataset)
    current = dataset.current if dataset else None
    if (spec.dataset in out.renewed_datasets or record.dataset != spec.dataset
            or current is None or current.remote_id != record.dataset_remote_id):
        return "replace_because_dataset_changed"
    for name in ("training_version", "training_mode"):
        if not same_text(getattr(spec, name), actual[name]):
            return f"replace_because_{name}_changed"
    if dict(spec.training_parameters) != dict(record.training_parameters):
        return "replace_because_training_parameters_changed"
    if spec.train and actual["status"] in ENDED_WITHOUT_MODEL:
        return f"replace_because_training_{ENDED_WITHOUT_MODEL[actual['status']]}"
    return None


def _replace(inputs: PlanInputs, out: Findings, spec: ModelSpec, before: dict[str, Any], reason: str) -> None:
    """Keep the old remote model (recorded as superseded) and create + train a new one; an
    old model that never trained is deleted once its successor exists (see the docstring)."""
    train = _train_steps(out, spec)
    name = _new_model_name(inputs, spec)
    untrained = before["status"] == "Created"
    # `train: false` on a training model means stop it (design.md §3), replaced or not.
    stop_old = not spec.train and before["status"] == "InProgress"
    delete_old = [Step(Op.DELETE_MODEL, {"remote_id": before["remote_id"]})] if untrained else []
    steps = ((Step(Op.STOP_TRAINING, {"remote_id": before["remote_id"]}),) if stop_old else ()) + (
        Step(Op.SUPERSEDE_MODEL, {"remote_id": before["remote_id"], "reason": reason}),
        _create_step(spec, name), *delete_old, *train)
    actions = (((Action.STOP,) if stop_old else ()) + ((Action.DELETE,) if untrained else ()) + (Action.CREATE,)
               + ((Action.TRAIN,) if train else ()))
    after = desired_summary(spec, bool(train), _dataset_version(inputs, out, spec), name=name)
    if stop_old:
        after |= {"old_model_status": "Stopped", "irreversible": True}
    out.add(Change(address=spec.address, actions=actions, reason=reason, steps=steps, before=before, after=after))
    if before["status"] == "InProgress" and not stop_old:
        out.note(spec.address, f"{spec.address}: the superseded model {before['remote_id']} keeps training "
                               "(it is kept, not stopped)")


def _dataset_version(inputs: PlanInputs, out: Findings, spec: ModelSpec) -> int | str:
    record = inputs.state.datasets.get(spec.dataset)
    if spec.dataset in out.renewed_datasets or record is None or record.current is None:
        return "new"
    return record.current.remote_id


def _plan_in_place(inputs: PlanInputs, out: Findings, spec: ModelSpec, record: ModelRecord,
                   actual: dict[str, Any], drifted: bool) -> None:
    status = actual["status"]
    desired = desired_summary(spec, spec.train, name=wanted_name(inputs.manifest.name_pattern, spec.name,
                                                                 actual["name"]))
    updated = changed_fields(desired, actual, ("name", "description"))
    steps: list[Step] = []
    actions: list[Action] = []
    reasons: list[str] = []
    if updated:
        steps.append(Step(Op.UPDATE_MODEL, {"fields": {n: desired[n] or "" for n in updated}}))
        actions.append(Action.UPDATE)
        reverting = drifted and all(same_text(desired[n], getattr(record, n)) for n in updated)
        reasons.append("revert_drift" if reverting else "update_in_place")
    if spec.train and status == "Created":
        train = _train_steps(out, spec)
        if train:
            steps += train
            actions.append(Action.TRAIN)
            reasons.append("start_training_because_train_true")
    if not spec.train and status == "InProgress":
        steps.append(Step(Op.STOP_TRAINING, {"remote_id": record.remote_id}))
        actions.append(Action.STOP)
        reasons.append("stop_because_train_false")
    if not spec.train and status in ENDED_WITHOUT_MODEL:
        out.note(spec.address, f"{spec.address}: training {status}; train: false, so it is left as it is")
    if spec.train and status == "InProgress":
        out.note(spec.address, _progress_note(spec.address, record, actual, inputs.live_model(spec.key) or {}))
    if not steps:
        return
    before = {n: actual[n] for n in updated} | {"status": status}
    after = {n: desired[n] for n in updated}
    if Action.STOP in actions:
        after |= {"status": "Stopped", "irreversible": True}
    elif Action.TRAIN in actions:
        after |= {"status": "InProgress"}
    out.add(Change(address=spec.address, actions=tuple(actions), reason=reasons[-1], steps=tuple(steps),
                   before=before, after=after))


def _progress_note(addr: str, record: ModelRecord, actual: dict[str, Any], live: Mapping[str, Any]) -> str:
    """Informational, not a change. The time comes from the API (the planner has no clock)."""
    started = live.get("training_started_at") or live.get("updated_at")
    since = f", started {started}" if started else ""
    return f"{addr}: training InProgress (model {record.remote_id}, {actual['training_version']}{since})"


def _plan_removal(inputs: PlanInputs, out: Findings, key: str) -> None:
    addr = address("model", key)
    record = inputs.state.models[key]
    live = inputs.live_model(key)
    before = actual_summary(record, live)
    if record.superseded:
        kept = ", ".join(str(s.remote_id) for s in record.superseded)
        dataset = inputs.state.datasets.get(record.dataset)
        project = out.changes.get(address("project", dataset.project)) if dataset else None
        if project is not None and Action.DELETE in project.actions:
            out.note(addr, f"{addr}: its superseded model(s) {kept} are deleted with project.{dataset.project}")
        else:
            # Replacements keep their predecessors; removing the address does not destroy them.
            out.note(addr, f"{addr}: its superseded model(s) {kept} stay in the API, no longer tracked by bria "
                           f"(`bria prune {addr}` before removing it deletes them)")
    if live is None:
        out.drift.append(Drift(addr, "deleted", record.remote_id))
        out.add(Change(address=addr, actions=(Action.DELETE,), reason="forget_because_deleted_outside_bria",
                       steps=(Step(Op.FORGET, {"remote_id": record.remote_id}),), before=before))
        return
    if _unknown_status(out, addr, record, before):
        return
    status = before["status"]
    steps = [Step(Op.DELETE_MODEL, {"remote_id": record.remote_id})]
    actions = (Action.DELETE,)
    if status == "InProgress":
        steps.insert(0, Step(Op.STOP_TRAINING, {"remote_id": record.remote_id}))
        actions = (Action.STOP, Action.DELETE)
    protected = status in TRAINED
    out.add(Change(address=addr, actions=actions, reason="delete_because_removed_from_manifest",
                   steps=tuple(steps), before=before, protected=protected,
                   refused=protected and not inputs.allowed(addr)))
