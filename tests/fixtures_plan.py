"""Builders for planner tests: manifests, states and live views as plain data.

The planner is pure, so its unit tests build specs directly (no files); the golden tests
(tests/test_planner_golden.py) go through load_manifest with real images instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from reconciler.model import DatasetSpec, ImageSpec, LiveView, Manifest, ModelSpec, ProjectSpec, StateConfig
from reconciler.state.model import (DatasetRecord, DatasetVersion, ImageRecord, ModelRecord, ProjectRecord,
                                    State)

PLAN_ROOT = Path("/plan-tests")
LINEAGE = "00000000-0000-4000-8000-000000000000"


def fake_image(name: str, caption: str | None = None) -> ImageSpec:
    """An ImageSpec whose sha256 is derived from `name` (no file behind it)."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    rel = f"images/{name}"
    return ImageSpec(sha256=sha, path=PLAN_ROOT / rel, rel_path=rel, caption=caption,
                     caption_origin="inline" if caption else None, width=1024, height=1024, format="PNG", size=1)


def build_manifest(projects=(), datasets=(), models=()) -> Manifest:
    return Manifest(path=PLAN_ROOT / "bria.yaml", root=PLAN_ROOT, api_endpoint="emulator",
                    state=StateConfig(path=PLAN_ROOT / "state" / "bria.json"),
                    projects={p.key: p for p in projects}, datasets={d.key: d for d in datasets},
                    models={m.key: m for m in models}, digest="sha256:test")


def luna_project(**overrides: Any) -> ProjectSpec:
    fields = dict(key="luna", name="Luna", ip_type="defined_character", ip_medium="illustration",
                  description="Heroine", ip_name="Luna", ip_description="girl with blue hair")
    return ProjectSpec(**{**fields, **overrides})


def luna_dataset(images=None, **overrides: Any) -> DatasetSpec:
    images = images if images is not None else (fake_image("a.png"), fake_image("b.png", "waving"))
    fields = dict(key="luna_v1", project="luna", name="Luna set", images=tuple(images))
    return DatasetSpec(**{**fields, **overrides})


def luna_model(**overrides: Any) -> ModelSpec:
    return ModelSpec(**{**dict(key="luna_max", dataset="luna_v1", name="Luna max"), **overrides})


def applied_state(manifest: Manifest, *, dataset_status: str = "completed", model_status: str = "Completed",
                  first_id: int = 100) -> State:
    """The state a successful apply of `manifest` leaves behind, with ids from `first_id`."""
    ids = iter(range(first_id, first_id + 100_000))
    projects = {k: ProjectRecord(next(ids), {n: getattr(p, n) for n in
                                             ("name", "description", "ip_type", "ip_medium", "ip_name",
                                              "ip_description")})
                for k, p in manifest.projects.items()}
    datasets = {}
    for k, d in manifest.datasets.items():
        version_id = next(ids)
        images = {i.sha256: ImageRecord(next(ids), i.image_name, i.caption or f"auto caption {i.rel_path}",
                                        "manual" if i.caption else "automatic") for i in d.images}
        prefix = d.caption_prefix if d.caption_prefix not in (None, "auto") else "An illustration of Luna, "
        datasets[k] = DatasetRecord(d.project, (DatasetVersion(version_id, d.name, dataset_status, prefix, images),),
                                    pinned_prefix=prefix if d.caption_prefix == "auto" else None)
    models = {k: ModelRecord(next(ids), m.dataset, datasets[m.dataset].current.remote_id, m.name, m.description,
                             m.training_version, m.training_mode, dict(m.training_parameters), model_status)
              for k, m in manifest.models.items()}
    return State(lineage=LINEAGE, serial=3, projects=projects, datasets=datasets, models=models)


def live_of(state: State, *, with_images: bool = True) -> LiveView:
    """A live view that agrees with `state` (drafts carry their images, like refresh)."""
    projects = {r.remote_id: {"id": r.remote_id, "project_name": r.applied.get("name"),
                              "project_description": r.applied.get("description"),
                              "ip_type": r.applied.get("ip_type"), "ip_medium": r.applied.get("ip_medium"),
                              "ip_name": r.applied.get("ip_name"), "ip_description": r.applied.get("ip_description"),
                              "status": "active"}
                for r in state.projects.values()}
    datasets: dict[int, dict[str, Any]] = {}
    for record in state.datasets.values():
        for v in record.versions:
            obj: dict[str, Any] = {"id": v.remote_id, "name": v.name, "status": v.status,
                                   "caption_prefix": v.caption_prefix, "images_count": len(v.images)}
            if with_images and v.status == "draft":
                obj["images"] = [{"id": r.remote_id, "image_name": r.image_name, "caption": r.caption,
                                  "caption_source": r.caption_source} for r in v.images.values()]
            datasets[v.remote_id] = obj
    models = {m.remote_id: {"id": m.remote_id, "name": m.name, "description": m.description,
                            "dataset_id": m.dataset_remote_id, "training_version": m.training_version,
                            "training_mode": m.training_mode, "status": m.status}
              for m in state.models.values()}
    return LiveView(projects, datasets, models)


def live_to_json(live: LiveView) -> dict[str, Any]:
    return {"projects": {str(k): dict(v) for k, v in sorted(live.projects.items())},
            "datasets": {str(k): dict(v) for k, v in sorted(live.datasets.items())},
            "models": {str(k): dict(v) for k, v in sorted(live.models.items())}}


def live_from_json(data: dict[str, Any]) -> LiveView:
    return LiveView(*({int(k): v for k, v in (data.get(kind) or {}).items()}
                      for kind in ("projects", "datasets", "models")))


def steps_of(plan, addr: str) -> list[str]:
    change = next(c for c in plan.changes if c.address == addr)
    return [s.op.value for s in change.steps]


def live_patched(state: State, **patch: Any) -> LiveView:
    """live_of(state) with objects patched, as if changed outside bria:
    patch = {"datasets": {remote_id: {field: value} | None (deleted)}, ...}."""
    import dataclasses

    live = live_of(state)
    tables = {k: {i: dict(v) for i, v in getattr(live, k).items()} for k in ("projects", "datasets", "models")}
    for kind, objects in patch.items():
        for remote_id, fields in objects.items():
            if fields is None:
                tables[kind].pop(remote_id)
            else:
                tables[kind][remote_id] = {**tables[kind].get(remote_id, {}), **fields}
    return dataclasses.replace(live, **tables)
