"""What every part of the planner reads (manifest, state, live view) and what it produces.

`PlanInputs` is read-only. `Findings` accumulates what goes into the plan (changes, drift,
notes). What one kind's planning tells the next travels explicitly, as typed return values:
projects → `ProjectOutcome` → datasets → `DatasetOutcome` → models; and which dataset
versions a training would start on is computed before any of them (planner.training_targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from reconciler.model import Change, Drift, LiveView, Manifest
from reconciler.reasons import Reason
from reconciler.state.model import State

ALL = "all"


class PlanError(ValueError):
    """The plan cannot be computed (unknown --target address, dependency cycle, …)."""


@dataclass(frozen=True)
class PlanInputs:
    manifest: Manifest
    state: State
    live: LiveView
    refreshed: bool                   # False with --no-refresh: `live` was built from the state
    allow_destroy: frozenset[str] | str = frozenset()
    # why a resource in state but not in the manifest is deleted (`bria destroy` says so)
    removal_reason: Reason = Reason.DELETE_BECAUSE_REMOVED_FROM_MANIFEST

    def allowed(self, addr: str) -> bool:
        """May a protected change at `addr` go ahead (`--allow-destroy ADDR|all`, or a removed
        block with destroy: true)?"""
        if self.allow_destroy == ALL or any(r.address == addr and r.destroy for r in self.manifest.removed):
            return True    # `removed: [{address, destroy: true}]` is a reviewed permission
        return ALL in self.allow_destroy or addr in self.allow_destroy

    def live_project(self, key: str) -> Mapping[str, Any] | None:
        record = self.state.projects.get(key)
        return self.live.projects.get(record.remote_id) if record else None

    def live_dataset(self, key: str) -> Mapping[str, Any] | None:
        record = self.state.datasets.get(key)
        current = record.current if record else None
        return self.live.datasets.get(current.remote_id) if current else None

    def live_model(self, key: str) -> Mapping[str, Any] | None:
        record = self.state.models.get(key)
        return self.live.models.get(record.remote_id) if record else None


@dataclass(frozen=True)
class PlanNote:
    """An informational line of the plan, and the resource it is about (None = the whole
    plan): a note about a resource left out by --target/--exclude is left out too. The plan
    carries the text (`Plan.notes`, the JSON `notes`)."""

    address: str | None
    text: str


@dataclass
class Findings:
    """Accumulated results; `notes` carry the address they are about (None = the whole plan)."""

    changes: dict[str, Change] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    notes: list[PlanNote] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.changes[change.address] = change

    def note(self, addr: str | None, text: str) -> None:
        self.notes.append(PlanNote(addr, text))


@dataclass(frozen=True)
class ProjectOutcome:
    """What project planning tells dataset and model planning."""

    replaced: frozenset[str] = frozenset()       # project keys deleted and created again


@dataclass(frozen=True)
class DatasetFate:
    """What this plan does to one dataset, as model planning needs it."""

    renewed: bool            # a new remote version (create, clone, recreate)
    completed_after: bool    # completed once the plan is applied


@dataclass(frozen=True)
class DatasetOutcome:
    """What dataset planning tells model planning, per dataset key."""

    fates: Mapping[str, DatasetFate] = field(default_factory=dict)

    def renewed(self, key: str) -> bool:
        fate = self.fates.get(key)
        return fate is not None and fate.renewed

    def completed_after(self, key: str) -> bool:
        fate = self.fates.get(key)
        return fate is not None and fate.completed_after


def live_from_state(state: State) -> LiveView:
    """The live view `--no-refresh` trusts: what the state last recorded, in the API's shape."""
    projects = {r.remote_id: {"id": r.remote_id, **_project_api_fields(r.applied)}
                for r in state.projects.values()}
    datasets: dict[int, dict[str, Any]] = {}
    for record in state.datasets.values():
        for v in record.versions:
            datasets[v.remote_id] = {
                "id": v.remote_id, "name": v.name, "status": v.status, "caption_prefix": v.caption_prefix,
                "visual_schema": v.visual_schema,
                "images": [{"id": i.remote_id, "image_name": i.image_name, "caption": i.caption,
                            "caption_source": i.caption_source} for i in v.images.values()],
            }
    models = {m.remote_id: {"id": m.remote_id, "name": m.name, "description": m.description,
                            "dataset_id": m.dataset_remote_id, "training_version": m.training_version,
                            "training_mode": m.training_mode, "status": m.status}
              for m in state.models.values()}
    return LiveView(projects=projects, datasets=datasets, models=models, requests=0)


# Manifest field name → API field name, for projects.
PROJECT_API_FIELDS = {"name": "project_name", "description": "project_description", "ip_type": "ip_type",
                      "ip_medium": "ip_medium", "ip_name": "ip_name", "ip_description": "ip_description"}


def _project_api_fields(applied: Mapping[str, Any]) -> dict[str, Any]:
    return {api: applied.get(name) for name, api in PROJECT_API_FIELDS.items()}


def same_text(a: Any, b: Any) -> bool:
    """Optional text fields compare equal when both are empty (the API may say "" or null)."""
    return (a or "") == (b or "")


def changed_fields(desired: Mapping[str, Any], actual: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    return [n for n in names if not same_text(desired.get(n), actual.get(n))]
