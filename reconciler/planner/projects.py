"""Planning for projects (docs/design.md, "Lifecycle rules: Projects"): create, update in place, replace, delete.

ip_type and ip_medium cannot be changed through the API, so changing them means deleting
the project — and with it every dataset and model inside — and creating it again. That,
and removing a project from the manifest, is protected: refused unless allowed.
"""

from __future__ import annotations

from typing import Any, Mapping

from reconciler.model import Action, Change, Drift, Op, ProjectSpec, Step, address, split_address
from reconciler.planner.context import (PROJECT_API_FIELDS, Findings, PlanInputs, ProjectOutcome, changed_fields,
                                        same_text)
from reconciler.reasons import Reason
from reconciler.status import RUNNING
from reconciler.stepargs import CreateProjectArgs, DeleteProjectArgs, ForgetArgs, UpdateProjectArgs

UPDATABLE = ("name", "description", "ip_name", "ip_description")
FIXED = ("ip_type", "ip_medium")
REPLACED_BECAUSE = {"ip_type": Reason.REPLACE_BECAUSE_IP_TYPE_CHANGED, "ip_medium": Reason.REPLACE_BECAUSE_IP_MEDIUM_CHANGED}


def plan_projects(inputs: PlanInputs, out: Findings) -> ProjectOutcome:
    replaced = {spec.key for spec in inputs.manifest.projects.values() if _plan_project(inputs, out, spec)}
    for key in sorted(set(inputs.state.projects) - set(inputs.manifest.projects)):
        _plan_removal(inputs, out, key)
    return ProjectOutcome(frozenset(replaced))


def desired_fields(spec: ProjectSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in PROJECT_API_FIELDS}


def live_fields(live: Mapping[str, Any]) -> dict[str, Any]:
    return {name: live.get(api) for name, api in PROJECT_API_FIELDS.items()}


def api_body(fields: Mapping[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The API body for `fields` (manifest names). Creates omit unset fields; updates send ""."""
    if names is None:
        return {PROJECT_API_FIELDS[n]: v for n, v in fields.items() if v is not None}
    return {PROJECT_API_FIELDS[n]: fields.get(n) or "" for n in names}


def _plan_project(inputs: PlanInputs, out: Findings, spec: ProjectSpec) -> bool:
    """Plan one project; True when it is replaced (deleted and created again)."""
    addr = spec.address
    record = inputs.state.projects.get(spec.key)
    desired = desired_fields(spec)
    if record is None:
        out.add(_create(addr, desired, Reason.CREATE))
        return False
    live = inputs.live_project(spec.key)
    if live is None:
        out.drift.append(Drift(addr, "deleted", record.remote_id))
        out.add(_create(addr, desired, Reason.RECREATE_BECAUSE_DELETED_OUTSIDE_BRIA))
        return False
    actual = live_fields(live)
    drifted = changed_fields(actual, record.applied, [n for n in PROJECT_API_FIELDS if n in record.applied])
    if drifted:
        out.drift.append(Drift(addr, "changed", record.remote_id,
                               {n: {"expected": record.applied.get(n), "actual": actual[n]} for n in drifted}))
    fixed = changed_fields(desired, actual, FIXED)
    if fixed:
        _replace(inputs, out, addr, record.remote_id, desired, actual, fixed)
        return True
    updated = changed_fields(desired, actual, UPDATABLE)
    if updated:
        reverting = all(same_text(desired[n], record.applied.get(n)) for n in updated)
        out.add(Change(
            address=addr, actions=(Action.UPDATE,),
            reason=Reason.REVERT_DRIFT if reverting and drifted else Reason.UPDATE_IN_PLACE,
            steps=(Step(Op.UPDATE_PROJECT, UpdateProjectArgs(api_body(desired, tuple(updated)))),),
            before={n: actual[n] for n in updated}, after={n: desired[n] for n in updated}))
    return False


def _create(addr: str, desired: dict[str, Any], reason: Reason) -> Change:
    return Change(address=addr, actions=(Action.CREATE,), reason=reason,
                  steps=(Step(Op.CREATE_PROJECT, CreateProjectArgs(api_body(desired))),), after=desired)


def _replace(inputs: PlanInputs, out: Findings, addr: str, remote_id: int, desired: dict[str, Any],
             actual: dict[str, Any], fixed: list[str]) -> None:
    key = split_address(addr)[1]
    inside = _children(inputs, key)
    if inside:
        wanted = set(inputs.manifest.addresses())
        again = [a for a in inside if a in wanted]
        removed = [a for a in inside if a not in wanted]
        out.note(addr, f"{addr}: replacing it deletes everything inside it remotely{_history(inputs, key)}"
                       + (f"; created again: {', '.join(again)}" if again else "")
                       + (f"; removed from the manifest, deleted first: {', '.join(removed)}" if removed else ""))
    _note_training_blocks_delete(inputs, out, addr, key, remote_id)
    out.add(Change(
        address=addr, actions=(Action.DELETE, Action.CREATE), reason=REPLACED_BECAUSE[fixed[0]],
        steps=(Step(Op.DELETE_PROJECT, DeleteProjectArgs(remote_id)),
               Step(Op.CREATE_PROJECT, CreateProjectArgs(api_body(desired)))),
        before=actual, after=desired, protected=True, refused=not inputs.allowed(addr)))


def _note_training_blocks_delete(inputs: PlanInputs, out: Findings, addr: str, project_key: str,
                                 remote_id: int) -> None:
    """The API refuses (409) to delete a project while one of its models trains. Models
    removed from the manifest are stopped and deleted before the project (selection.py);
    any other training model — kept in the manifest, superseded, unknown to bria — blocks."""
    versions = {v.remote_id for k, r in inputs.state.datasets.items() if r.project == project_key for v in r.versions}
    stopped_first = {r.remote_id for k, r in inputs.state.models.items() if k not in inputs.manifest.models}
    names = {r.remote_id: address("model", k) for k, r in inputs.state.models.items()}
    training = sorted(names.get(m["id"], f"model {m['id']}") for m in inputs.live.models.values()
                      if (m.get("project_id") == remote_id or m.get("dataset_id") in versions)
                      and m.get("status") in RUNNING and m.get("id") not in stopped_first)
    if training:
        out.note(addr, f"{addr}: the API refuses to delete a project while its models train "
                       f"({', '.join(training)}); wait for them, or stop them first (train: false)")


def _history(inputs: PlanInputs, project_key: str) -> str:
    """What the project's deletion also destroys that the plan shows nowhere else."""
    datasets = [r for r in inputs.state.datasets.values() if r.project == project_key]
    older = sum(len(r.versions) - 1 for r in datasets if r.versions)
    keys = {k for k, r in inputs.state.datasets.items() if r.project == project_key}
    superseded = sum(len(r.superseded) for r in inputs.state.models.values() if r.dataset in keys)
    parts = ([f"{superseded} superseded model(s)"] if superseded else []) + (
        [f"{older} older dataset version(s)"] if older else [])
    return f", including {' and '.join(parts)}" if parts else ""


def _children(inputs: PlanInputs, project_key: str) -> list[str]:
    datasets = sorted(k for k, r in inputs.state.datasets.items() if r.project == project_key)
    models = sorted(k for k, r in inputs.state.models.items() if r.dataset in datasets)
    return [address("dataset", k) for k in datasets] + [address("model", k) for k in models]


def _plan_removal(inputs: PlanInputs, out: Findings, key: str) -> None:
    addr = address("project", key)
    record = inputs.state.projects[key]
    live = inputs.live_project(key)
    if live is None:
        out.drift.append(Drift(addr, "deleted", record.remote_id))
        out.add(Change(address=addr, actions=(Action.DELETE,), reason=Reason.FORGET_BECAUSE_DELETED_OUTSIDE_BRIA,
                       steps=(Step(Op.FORGET, ForgetArgs(record.remote_id)),), before=dict(record.applied)))
        return
    _note_training_blocks_delete(inputs, out, addr, key, record.remote_id)
    out.add(Change(
        address=addr, actions=(Action.DELETE,), reason=inputs.removal_reason,
        steps=(Step(Op.DELETE_PROJECT, DeleteProjectArgs(record.remote_id)),),
        before={"remote_id": record.remote_id, **live_fields(live)},
        protected=True, refused=not inputs.allowed(addr)))
