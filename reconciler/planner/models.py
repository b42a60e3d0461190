"""Planning for models (docs/design.md, "Lifecycle rules: Models").

A model cannot be retrained or moved: a new dataset version, another training version,
mode or parameters, or a failed/stopped training means a REPLACEMENT — a new model is
created on the dataset's current version and trained; the old remote model is kept and
recorded as superseded. Deleting a trained (or training) model is protected.

Decisions the lifecycle rules of docs/design.md spell out, and why:
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

from dataclasses import dataclass
from typing import Any, Mapping

from reconciler.model import Action, Change, Drift, ModelSpec, Op, Step, address, split_address
from reconciler.planner.context import (DatasetFate, DatasetOutcome, Findings, PlanInputs, ProjectOutcome, changed_fields,
                                        same_text)
from reconciler.planner.naming import next_version, versioned_name, wanted_name
from reconciler.reasons import Reason
from reconciler.state.model import ModelRecord
from reconciler.status import TRAINED, ModelStatus, is_known
from reconciler.stepargs import (CreateModelArgs, DeleteModelArgs, ForgetArgs, StartTrainingArgs, StopTrainingArgs,
                                  SupersedeModelArgs, UpdateModelArgs)

# Statuses in which training ended without a model, and the reason a replacement gives.
ENDED_WITHOUT_MODEL = {ModelStatus.FAILED: Reason.REPLACE_BECAUSE_TRAINING_FAILED,
                       ModelStatus.STOPPED: Reason.REPLACE_BECAUSE_TRAINING_STOPPED,
                       ModelStatus.STOPPING: Reason.REPLACE_BECAUSE_TRAINING_STOPPED}
REPLACED_BECAUSE = {"training_version": Reason.REPLACE_BECAUSE_TRAINING_VERSION_CHANGED,
                    "training_mode": Reason.REPLACE_BECAUSE_TRAINING_MODE_CHANGED}


def plan_models(inputs: PlanInputs, out: Findings, up: Upstream) -> None:
    for spec in inputs.manifest.models.values():
        _plan_model(inputs, out, up, spec)
    for key in sorted(set(inputs.state.models) - set(inputs.manifest.models)):
        _plan_removal(inputs, out, key)


@dataclass(frozen=True)
class Upstream:
    """What project and dataset planning decided, as model planning reads it."""

    projects: ProjectOutcome
    datasets: DatasetOutcome


def training_targets(inputs: PlanInputs) -> frozenset[str]:
    """Datasets whose current version a training this plan starts would use, were the version
    kept as it is (completed, not renewed). A pure function of the model rules: each model is
    planned on that assumption and kept when it gets a START_TRAINING. Dataset planning reads
    it before deciding whether a version's stray images must go first (datasets._plan_completed);
    versions that change anyway are renewed, which the real model planning then sees."""
    datasets = DatasetOutcome({key: DatasetFate(renewed=False, completed_after=True)
                               for key in inputs.manifest.datasets})
    up, scratch = Upstream(ProjectOutcome(), datasets), Findings()
    for spec in inputs.manifest.models.values():
        _plan_model(inputs, scratch, up, spec)
    return frozenset(inputs.manifest.models[split_address(c.address)[1]].dataset for c in scratch.changes.values()
                     if any(s.op is Op.START_TRAINING for s in c.steps))


def desired_summary(spec: ModelSpec, trains: bool, dataset_version: int | str | None = None,
                    name: str | None = None) -> dict[str, Any]:
    """The new model, with the same keys as actual_summary() (`dataset_version` only on a
    replacement: the dataset version it will be created on, "new" when made in this plan;
    `name`: the versioned name, when not the manifest's plain one)."""
    summary = {"name": name or spec.name, "description": spec.description, "dataset": spec.dataset,
               "training_version": spec.training_version, "training_mode": spec.training_mode,
               "training_parameters": dict(spec.training_parameters), "status": ModelStatus.IN_PROGRESS.value if trains else ModelStatus.CREATED.value}
    return summary if dataset_version is None else {**summary, "dataset_version": dataset_version}


def actual_summary(record: ModelRecord, live: Mapping[str, Any] | None) -> dict[str, Any]:
    live = live or {}
    return {"remote_id": record.remote_id, "name": live.get("name", record.name),
            "description": live.get("description", record.description), "dataset": record.dataset,
            "dataset_version": live.get("dataset_id", record.dataset_remote_id),
            "training_version": live.get("training_version", record.training_version),
            "training_mode": live.get("training_mode", record.training_mode),
            "training_parameters": dict(record.training_parameters), "status": live.get("status", record.status)}


def _plan_model(inputs: PlanInputs, out: Findings, up: Upstream, spec: ModelSpec) -> None:
    record = inputs.state.models.get(spec.key)
    if record is None:
        _create(inputs, out, up, spec, Reason.CREATE)
        return
    live = inputs.live_model(spec.key)
    before = actual_summary(record, live)
    if live is None:
        out.drift.append(Drift(spec.address, "deleted", record.remote_id))
        _recreate_deleted(inputs, out, up, spec, record, before)
        return
    if _unknown_status(out, spec.address, record, before):
        return
    dataset_spec = inputs.manifest.datasets.get(spec.dataset)
    if dataset_spec is not None and dataset_spec.project in up.projects.replaced:
        _create(inputs, out, up, spec, Reason.RECREATE_BECAUSE_PROJECT_REPLACED, before, forget=record.remote_id)
        return
    drifted = changed_fields(before, {"name": record.name, "description": record.description},
                             ("name", "description"))
    if drifted:
        out.drift.append(Drift(spec.address, "changed", record.remote_id,
                               {n: {"expected": getattr(record, n), "actual": before[n]} for n in drifted}))
    reason = _replacement_reason(inputs, up, spec, record, before)
    if reason:
        _replace(inputs, out, up, spec, before, reason)
    else:
        _plan_in_place(inputs, out, up, spec, record, before, bool(drifted))


def _unknown_status(out: Findings, addr: str, record: ModelRecord, before: dict[str, Any]) -> bool:
    """A status bria does not know: never act on the model (it might be training, billing or
    going away); say so, and plan nothing for it until the status is one bria knows."""
    if is_known(before["status"]):
        return False
    out.note(addr, f"{addr}: model {record.remote_id} has status {before['status']!r}, which bria does not "
                   "know; nothing is planned for it until the API reports a known status")
    return True


def _train_steps(out: Findings, up: Upstream, spec: ModelSpec) -> list[Step]:
    """START_TRAINING when wanted and possible (the dataset is, or will be, completed)."""
    if not spec.train:
        return []
    if not up.datasets.completed_after(spec.dataset):
        out.note(spec.address, f"{spec.address}: train: true, but dataset.{spec.dataset} is not completed "
                               "(complete: false); training starts once it is")
        return []
    return [Step(Op.START_TRAINING, StartTrainingArgs(dict(spec.training_parameters)))]


def _create_step(spec: ModelSpec, name: str) -> Step:
    return Step(Op.CREATE_MODEL, CreateModelArgs(name, spec.description, spec.dataset, spec.training_version,
                                                 spec.training_mode))


def _new_model_name(inputs: PlanInputs, spec: ModelSpec) -> str:
    """The plain name for an address's first model; a versioned one for each later model."""
    record = inputs.state.models.get(spec.key)
    if record is None:
        return spec.name
    pattern = inputs.manifest.name_pattern
    return versioned_name(pattern, spec.name, next_version(pattern, record.name, 1 + len(record.superseded)))


def _create(inputs: PlanInputs, out: Findings, up: Upstream, spec: ModelSpec, reason: Reason,
            before: dict[str, Any] | None = None, forget: int | None = None) -> None:
    steps = [Step(Op.FORGET, ForgetArgs(forget))] if forget is not None else []
    train = _train_steps(out, up, spec)
    name = _new_model_name(inputs, spec)
    steps += [_create_step(spec, name), *train]
    actions = (Action.CREATE, Action.TRAIN) if train else (Action.CREATE,)
    out.add(Change(address=spec.address, actions=actions, reason=reason, steps=tuple(steps),
                   before=before, after=desired_summary(spec, bool(train), name=name)))


def _recreate_deleted(inputs: PlanInputs, out: Findings, up: Upstream, spec: ModelSpec, record: ModelRecord,
                      before: dict[str, Any]) -> None:
    retrain = spec.train and record.status in TRAINED
    reason = (Reason.RECREATE_AND_RETRAIN_BECAUSE_DELETED_OUTSIDE_BRIA if retrain
              else Reason.RECREATE_BECAUSE_DELETED_OUTSIDE_BRIA)
    _create(inputs, out, up, spec, reason, before, forget=record.remote_id)
    if retrain and Action.TRAIN in out.changes[spec.address].actions:
        out.note(spec.address, f"{spec.address}: model {record.remote_id} ({record.status}) was deleted outside "
                               "bria; a new model will be created and TRAINED AGAIN (a new training run). "
                               "If that is not wanted, set train: false or remove it from the manifest")


def _replacement_reason(inputs: PlanInputs, up: Upstream, spec: ModelSpec, record: ModelRecord,
                        actual: dict[str, Any]) -> Reason | None:
    dataset = inputs.state.datasets.get(spec.dataset)
    current = dataset.current if dataset else None
    if (up.datasets.renewed(spec.dataset) or record.dataset != spec.dataset
            or current is None or current.remote_id != record.dataset_remote_id):
        return Reason.REPLACE_BECAUSE_DATASET_CHANGED
    for name in ("training_version", "training_mode"):
        if not same_text(getattr(spec, name), actual[name]):
            return REPLACED_BECAUSE[name]
    if dict(spec.training_parameters) != dict(record.training_parameters):
        return Reason.REPLACE_BECAUSE_TRAINING_PARAMETERS_CHANGED
    if spec.train and actual["status"] in ENDED_WITHOUT_MODEL:
        return ENDED_WITHOUT_MODEL[actual["status"]]
    return None


def _replace(inputs: PlanInputs, out: Findings, up: Upstream, spec: ModelSpec, before: dict[str, Any],
             reason: Reason) -> None:
    """Keep the old remote model (recorded as superseded) and create + train a new one; an
    old model that never trained is deleted once its successor exists (see the docstring)."""
    train = _train_steps(out, up, spec)
    name = _new_model_name(inputs, spec)
    untrained = before["status"] == ModelStatus.CREATED
    # `train: false` on a training model means stop it (docs/design.md), replaced or not.
    stop_old = not spec.train and before["status"] == ModelStatus.IN_PROGRESS
    delete_old = [Step(Op.DELETE_MODEL, DeleteModelArgs(before["remote_id"]))] if untrained else []
    steps = ((Step(Op.STOP_TRAINING, StopTrainingArgs(before["remote_id"])),) if stop_old else ()) + (
        Step(Op.SUPERSEDE_MODEL, SupersedeModelArgs(before["remote_id"], reason)),
        _create_step(spec, name), *delete_old, *train)
    actions = (((Action.STOP,) if stop_old else ()) + ((Action.DELETE,) if untrained else ()) + (Action.CREATE,)
               + ((Action.TRAIN,) if train else ()))
    after = desired_summary(spec, bool(train), _dataset_version(inputs, up, spec), name=name)
    if stop_old:
        after |= {"old_model_status": ModelStatus.STOPPED.value, "irreversible": True}
    out.add(Change(address=spec.address, actions=actions, reason=reason, steps=steps, before=before, after=after))
    if before["status"] == ModelStatus.IN_PROGRESS and not stop_old:
        out.note(spec.address, f"{spec.address}: the superseded model {before['remote_id']} keeps training "
                               "(it is kept, not stopped)")


def _dataset_version(inputs: PlanInputs, up: Upstream, spec: ModelSpec) -> int | str:
    record = inputs.state.datasets.get(spec.dataset)
    if up.datasets.renewed(spec.dataset) or record is None or record.current is None:
        return "new"
    return record.current.remote_id


def _plan_in_place(inputs: PlanInputs, out: Findings, up: Upstream, spec: ModelSpec, record: ModelRecord,
                   actual: dict[str, Any], drifted: bool) -> None:
    status = actual["status"]
    desired = desired_summary(spec, spec.train, name=wanted_name(inputs.manifest.name_pattern, spec.name,
                                                                 actual["name"]))
    updated = changed_fields(desired, actual, ("name", "description"))
    steps: list[Step] = []
    actions: list[Action] = []
    reasons: list[Reason] = []
    if updated:
        steps.append(Step(Op.UPDATE_MODEL, UpdateModelArgs({n: desired[n] or "" for n in updated})))
        actions.append(Action.UPDATE)
        reverting = drifted and all(same_text(desired[n], getattr(record, n)) for n in updated)
        reasons.append(Reason.REVERT_DRIFT if reverting else Reason.UPDATE_IN_PLACE)
    if spec.train and status == ModelStatus.CREATED:
        train = _train_steps(out, up, spec)
        if train:
            steps += train
            actions.append(Action.TRAIN)
            reasons.append(Reason.START_TRAINING_BECAUSE_TRAIN_TRUE)
    if not spec.train and status == ModelStatus.IN_PROGRESS:
        steps.append(Step(Op.STOP_TRAINING, StopTrainingArgs(record.remote_id)))
        actions.append(Action.STOP)
        reasons.append(Reason.STOP_BECAUSE_TRAIN_FALSE)
    if not spec.train and status in ENDED_WITHOUT_MODEL:
        out.note(spec.address, f"{spec.address}: training {status}; train: false, so it is left as it is")
    if spec.train and status == ModelStatus.IN_PROGRESS:
        out.note(spec.address, _progress_note(spec.address, record, actual, inputs.live_model(spec.key) or {}))
    if not steps:
        return
    before = {n: actual[n] for n in updated} | {"status": status}
    after = {n: desired[n] for n in updated}
    if Action.STOP in actions:
        after |= {"status": ModelStatus.STOPPED.value, "irreversible": True}
    elif Action.TRAIN in actions:
        after |= {"status": ModelStatus.IN_PROGRESS.value}
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
        out.add(Change(address=addr, actions=(Action.DELETE,), reason=Reason.FORGET_BECAUSE_DELETED_OUTSIDE_BRIA,
                       steps=(Step(Op.FORGET, ForgetArgs(record.remote_id)),), before=before))
        return
    if _unknown_status(out, addr, record, before):
        return
    status = before["status"]
    steps = [Step(Op.DELETE_MODEL, DeleteModelArgs(record.remote_id))]
    actions = (Action.DELETE,)
    if status == ModelStatus.IN_PROGRESS:
        steps.insert(0, Step(Op.STOP_TRAINING, StopTrainingArgs(record.remote_id)))
        actions = (Action.STOP, Action.DELETE)
    protected = status in TRAINED
    out.add(Change(address=addr, actions=actions, reason=inputs.removal_reason,
                   steps=tuple(steps), before=before, protected=protected,
                   refused=protected and not inputs.allowed(addr)))
