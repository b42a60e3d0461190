"""Untracked look-alikes: a create that would duplicate an object already in the account. Pure.

When the plan creates a project, dataset or model and the live view already holds an
object of that kind with the same name and parent that this state does not track (a lost
state, an earlier tool, a console user), the new object would be a duplicate — for a model,
one more training run. The plan names each such object with the `bria import` command that
adopts it instead; apply refuses while any is not allowed (`allow_duplicate_name: true` on
the resource, or `--allow-duplicate-names` for the run).

Not counted: objects this state records, objects a pending journal entry of the same address
may adopt (apply resolves those first), soft-deleted models, and creates whose parent is new
in this plan (nothing can be under it yet). Clones are new versions of a tracked dataset.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from reconciler.model import Change, LiveView, Manifest, Op, address, split_address
from reconciler.planner.journal_match import CREATE_KIND, look_alikes, match, name_of, parent_of, recorded_ids
from reconciler.state.model import State
from reconciler.stepargs import CreateDatasetArgs, CreateModelArgs, CreateProjectArgs, StepArgs

CREATES = {Op.CREATE_PROJECT: "project", Op.CREATE_DATASET: "dataset", Op.CREATE_MODEL: "model"}


def find_duplicates(manifest: Manifest, state: State, live: LiveView, changes: Iterable[Change], *,
                    allow_all: bool = False) -> tuple[dict[str, Any], ...]:
    changes = list(changes)
    created_here = {c.address for c in changes
                    if any(s.op in CREATES or s.op is Op.CLONE_DATASET for s in c.steps)}
    tracked = recorded_ids(state)
    found = []
    for change in changes:
        for step in change.steps:
            kind = CREATES.get(step.op)
            if kind is None:
                continue
            name, parent = _name_and_parent(manifest, state, change.address, step.args, created_here)
            if name is None:
                continue
            pending = _journal_candidates(state, live, change.address)
            for obj in look_alikes(kind, name, parent, _listed(live, kind)):
                remote_id = int(obj["id"])
                if remote_id in tracked[kind] or remote_id in pending:
                    continue
                found.append({"address": change.address, "kind": kind, "name": name, "remote_id": remote_id,
                              "import_command": _import_command(manifest, change.address, remote_id),
                              "allowed": allow_all or _allowed(manifest, change.address)})
    return tuple(sorted(found, key=lambda d: (d["address"], d["remote_id"])))


def duplicate_notes(duplicates: Iterable[Mapping[str, Any]]) -> list[str]:
    notes = []
    for d in duplicates:
        verdict = ("allowed: a second one will be created" if d["allowed"] else
                   "apply refuses to create a duplicate (allow it with allow_duplicate_name: true or "
                   "--allow-duplicate-names)")
        notes.append(f"{d['address']}: the account already has an untracked {d['kind']} {d['remote_id']} named "
                     f"{d['name']!r} in the same place; to adopt it instead run `{d['import_command']}`; {verdict}")
    return notes


def twin_notes(manifest: Manifest, state: State, live: LiveView) -> list[str]:
    """Untracked objects with the name and parent of a *tracked* one: duplicates made outside
    this state — or by a create whose late commit landed after the settle window. Shown so
    that no duplicate stays hidden; not blocking."""
    tracked = recorded_ids(state)
    current = {"project": {f"project.{k}": r.remote_id for k, r in state.projects.items()},
               "dataset": {f"dataset.{k}": r.current.remote_id for k, r in state.datasets.items() if r.current},
               "model": {f"model.{k}": r.remote_id for k, r in state.models.items()}}
    notes = []
    for kind, addresses in current.items():
        listed = list(_listed(live, kind))
        by_id = {int(o["id"]): o for o in listed}
        for address, remote_id in sorted(addresses.items()):
            mine = by_id.get(remote_id)
            if mine is None or _allowed(manifest, address):
                continue
            pending = _journal_candidates(state, live, address)
            twins = [int(o["id"]) for o in look_alikes(kind, name_of(kind, mine), parent_of(kind, mine), listed)
                     if int(o["id"]) not in tracked[kind] and int(o["id"]) not in pending]
            if twins:
                notes.append(f"{address}: the account also holds untracked {kind}(s) "
                             f"{', '.join(map(str, sorted(twins)))} with the same name and parent as {kind} "
                             f"{remote_id} — a duplicate made outside this state (or a create that committed after "
                             f"bria stopped looking); delete it in the console if it is not wanted")
    return notes


def _listed(live: LiveView, kind: str) -> Iterable[Mapping[str, Any]]:
    return {"project": live.projects, "dataset": live.datasets, "model": live.models}[kind].values()


def _name_and_parent(manifest: Manifest, state: State, addr: str, args: StepArgs,
                     created_here: set[str]) -> tuple[str | None, int | None]:
    kind, key = split_address(addr)
    if isinstance(args, CreateProjectArgs):
        return args.fields.get("project_name"), None
    if isinstance(args, CreateDatasetArgs):
        project_key = args.project or (manifest.datasets[key].project if key in manifest.datasets else None)
        record = state.projects.get(project_key) if project_key else None
        if record is None or address("project", project_key) in created_here:
            return None, None
        return args.name, record.remote_id
    assert isinstance(args, CreateModelArgs), kind
    dataset_key = args.dataset or (manifest.models[key].dataset if key in manifest.models else None)
    record = state.datasets.get(dataset_key) if dataset_key else None
    if record is None or record.current is None or address("dataset", dataset_key) in created_here:
        return None, None
    return args.name, record.current.remote_id


def _journal_candidates(state: State, live: LiveView, address: str) -> set[int]:
    ids: set[int] = set()
    for entry in state.journal:
        kind = CREATE_KIND.get(entry.op)
        if entry.address != address or kind is None:
            continue
        result = match(entry, _listed(live, kind), state)
        ids |= set(result.ambiguous) | ({int(result.found["id"])} if result.found is not None else set())
    return ids


def _allowed(manifest: Manifest, address: str) -> bool:
    kind, key = split_address(address)
    spec = {"project": manifest.projects, "dataset": manifest.datasets, "model": manifest.models}[kind].get(key)
    return bool(spec is not None and spec.allow_duplicate_name)


def _import_command(manifest: Manifest, address: str, remote_id: int) -> str:
    flag = "" if manifest.path.name == "bria.yaml" else f" -f {manifest.path.name}"
    return f"bria import {address} {remote_id}{flag}"
