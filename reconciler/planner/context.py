"""What every part of the planner reads (manifest, state, live view) and what it produces.

`PlanInputs` is read-only. `Findings` is the one mutable accumulator of a planning run: the
project planner fills it first, then datasets, then models, because later kinds need to know
what happened to earlier ones (a replaced project, a dataset that gets a new version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from reconciler.model import Change, Drift, LiveView, Manifest
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
    # dataset keys whose completed version keeps stray images but on which this plan would
    # start a training: they get a new version without the strays (datasets._plan_completed)
    renew_for_training: frozenset[str] = frozenset()

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


@dataclass
class Findings:
    """Accumulated results; `notes` carry the address they are about (None = the whole plan)."""

    changes: dict[str, Change] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    notes: list[tuple[str | None, str]] = field(default_factory=list)
    # project keys whose remote project is deleted and created again in this plan
    replaced_projects: set[str] = field(default_factory=set)
    # dataset keys that get a new remote version (create, clone, recreate) in this plan
    renewed_datasets: set[str] = field(default_factory=set)
    # dataset key → whether it will be completed once this plan is applied
    completed_after: dict[str, bool] = field(default_factory=dict)
    # dataset keys whose current (completed) version keeps its stray images in this plan
    kept_strays: set[str] = field(default_factory=set)

    def add(self, change: Change) -> None:
        self.changes[change.address] = change

    def note(self, addr: str | None, text: str) -> None:
        self.notes.append((addr, text))


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
