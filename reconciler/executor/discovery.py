"""`bria import --discover`: find, by name and parent, the objects a lost state was about.

Reads the account (three list calls), then matches the manifest in dependency order: each
project by name; each dataset by name under its project; each model by name on its
dataset's chosen version. Objects this state already records are never proposed. Nothing is
written here: the caller shows the proposals as a plan and, once confirmed, imports each
with `importing.import_resource` (which checks parents again).

Choosing among several matches: a dataset has one remote object per version (all with its
name), so the version a matching model was created on wins, else the newest. Several
models of one name on one version are reported as ambiguous and not imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from reconciler.api.protocol import BriaApi
from reconciler.model import Manifest
from reconciler.planner.journal_match import look_alikes, recorded_ids
from reconciler.planner.naming import is_version_of
from reconciler.state.model import State
from reconciler.status import is_deleted


@dataclass(frozen=True)
class Proposal:
    address: str
    remote_id: int
    note: str = ""


@dataclass(frozen=True)
class Discovery:
    proposals: tuple[Proposal, ...]
    problems: tuple[str, ...]


async def discover(manifest: Manifest, state: State, api: BriaApi) -> Discovery:
    projects, datasets, models = (await api.list_projects(), await api.list_datasets(),
                                  await api.list_models())
    tracked = recorded_ids(state)
    proposals: list[Proposal] = []
    problems: list[str] = []
    project_ids: dict[str, int] = {k: r.remote_id for k, r in state.projects.items()}
    for key, spec in sorted(manifest.projects.items()):
        if key in state.projects:
            continue
        found = [p for p in look_alikes("project", spec.name, None, projects) if p["id"] not in tracked["project"]]
        if len(found) == 1:
            project_ids[key] = int(found[0]["id"])
            proposals.append(Proposal(f"project.{key}", int(found[0]["id"])))
        elif found:
            problems.append(f"project.{key}: {len(found)} untracked projects are named {spec.name!r} "
                            f"({', '.join(str(p['id']) for p in found)}); import the right one by hand")
    dataset_ids: dict[str, int] = {k: r.current.remote_id for k, r in state.datasets.items() if r.current}
    for key, spec in sorted(manifest.datasets.items()):
        if key in state.datasets or spec.project not in project_ids:
            continue
        found = [d for d in _versions_named(manifest, "dataset", spec.name, project_ids[spec.project], datasets)
                 if d["id"] not in tracked["dataset"]]
        chosen, note = _choose_version(manifest, key, found, models)
        if chosen is not None:
            dataset_ids[key] = chosen
            proposals.append(Proposal(f"dataset.{key}", chosen, note))
    for key, spec in sorted(manifest.models.items()):
        if key in state.models or spec.dataset not in dataset_ids:
            continue
        found = [m for m in _versions_named(manifest, "model", spec.name, dataset_ids[spec.dataset], models)
                 if m["id"] not in tracked["model"]]
        if len(found) == 1:
            proposals.append(Proposal(f"model.{key}", int(found[0]["id"]), str(found[0].get("status") or "")))
        elif found:
            problems.append(f"model.{key}: {len(found)} untracked models are named {spec.name!r} on dataset "
                            f"{dataset_ids[spec.dataset]} ({', '.join(str(m['id']) for m in found)}); import the "
                            f"right one by hand")
    return Discovery(tuple(proposals), tuple(problems))


def _versions_named(manifest: Manifest, kind: str, name: str, parent_id: int,
                    listed: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Look-alikes named `name` or a versioned form of it (planner/naming.py: a dataset's later
    versions and an address's replacement models are named "<name> v<N>")."""
    names = {str(o.get("name")) for o in listed if is_version_of(manifest.name_pattern, name, o.get("name"))}
    return [o for n in sorted(names) for o in look_alikes(kind, n, parent_id, listed)]


def _choose_version(manifest: Manifest, key: str, found: list[Mapping[str, Any]],
                    models: list[Mapping[str, Any]]) -> tuple[int | None, str]:
    if not found:
        return None, ""
    ids = {int(d["id"]) for d in found}
    names = [m.name for m in manifest.models.values() if m.dataset == key]
    trained_on = sorted({int(m["dataset_id"]) for m in models
                         if any(is_version_of(manifest.name_pattern, n, m.get("name")) for n in names)
                         and m.get("dataset_id") in ids and not is_deleted(m.get("status"))})
    if trained_on:
        chosen = trained_on[-1]
        why = "the version its model was created on"
    else:
        chosen = max(ids)
        why = "the newest"
    note = f"{len(ids)} versions ({', '.join(str(i) for i in sorted(ids))}); chose {why}" if len(ids) > 1 else ""
    return chosen, note
