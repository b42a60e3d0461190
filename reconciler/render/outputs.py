"""`bria output`: what later pipeline steps need from the state, in a versioned JSON shape.

Shape (OUTPUT_FORMAT_VERSION 1; documented in the README, "bria output"):

    {"format_version": 1,
     "refreshed_at": "2026-12-01T16:00:00+00:00" | null,   # when statuses were last read
     "state_serial": 7,
     "models": {"model.KEY": {
         "dataset": "dataset.KEY",
         "newest":           {MODEL},          # the address's current model, whatever its status
         "newest_completed": {MODEL} | null,   # the newest model that finished training:
                                               # what an app should use while a replacement trains
         "superseded": [remote ids, oldest first]}},
     "datasets": {"dataset.KEY": {"remote_id", "status", "images", "caption_prefix", "versions"}},
     "projects": {"project.KEY": {"remote_id"}}}

    MODEL = {"remote_id", "status", "generation_prefix", "dataset_remote_id",
             "training_version", "training_mode"}

Statuses are what the state last observed; `refreshed_at` says when (`--refresh` updates them).
A new key may be added within a format version; a key is never removed or renamed in one.
"""

from __future__ import annotations

from typing import Any

from reconciler.state.model import ModelRecord, State, SupersededModel
from reconciler.status import ModelStatus

OUTPUT_FORMAT_VERSION = 1
COMPLETED = ModelStatus.COMPLETED


def outputs(state: State) -> dict[str, Any]:
    return {
        "format_version": OUTPUT_FORMAT_VERSION,
        "refreshed_at": state.refreshed_at,
        "state_serial": state.serial,
        "models": {f"model.{k}": _model(m) for k, m in sorted(state.models.items())},
        "datasets": {f"dataset.{k}": {"remote_id": r.current.remote_id if r.current else None,
                                      "status": r.current.status if r.current else None,
                                      "images": len(r.current.images) if r.current else 0,
                                      "caption_prefix": r.current.caption_prefix if r.current else None,
                                      "versions": [v.remote_id for v in r.versions]}
                     for k, r in sorted(state.datasets.items())},
        "projects": {f"project.{k}": {"remote_id": r.remote_id} for k, r in sorted(state.projects.items())},
    }


def _model(record: ModelRecord) -> dict[str, Any]:
    newest = _facts(record)
    completed = newest if record.status == COMPLETED else next(
        (_facts(s) for s in reversed(record.superseded) if s.status == COMPLETED), None)
    return {"dataset": f"dataset.{record.dataset}", "newest": newest, "newest_completed": completed,
            "superseded": [s.remote_id for s in record.superseded]}


def _facts(model: ModelRecord | SupersededModel) -> dict[str, Any]:
    return {"remote_id": model.remote_id, "status": model.status, "generation_prefix": model.generation_prefix,
            "dataset_remote_id": model.dataset_remote_id, "training_version": model.training_version,
            "training_mode": model.training_mode}


def output_lines(state: State) -> list[str]:
    """The same facts for people, one line per resource."""
    data = outputs(state)
    lines = []
    for addr, m in data["models"].items():
        new, done = m["newest"], m["newest_completed"]
        line = f"{addr}: newest id {new['remote_id']} {new['status']}, generation_prefix {new['generation_prefix']!r}"
        if done is None:
            line += "; no Completed model yet"
        elif done["remote_id"] != new["remote_id"]:
            line += f"; newest Completed id {done['remote_id']}, generation_prefix {done['generation_prefix']!r}"
        lines.append(line)
    for addr, d in data["datasets"].items():
        lines.append(f"{addr}: id {d['remote_id']}, {d['status']}, {d['images']} images")
    for addr, p in data["projects"].items():
        lines.append(f"{addr}: id {p['remote_id']}")
    return lines or ["(state is empty)"]
