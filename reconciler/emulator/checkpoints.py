"""Checkpoints of expert models (generation C; served in the mixed and fibo dialects).

A finished expert training saved a checkpoint every `checkpoint_interval` steps; a fully
automated model has none (its list is refused with 400: "only available for models trained
in expert mode"). Checkpoints are derived from the training parameters, minus the ones
deleted (kept as a JSON list on the model row).

Where the docs are silent: the active checkpoint (`active_model_version: "default"`) is the
last one saved — the final weights — so that is the one a DELETE refuses with 400; the list
is empty until the training has Completed; `training_job_id` is the model's id (one
training run per model).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from reconciler.emulator import lifecycle
from reconciler.emulator.errors import bad_request, not_found
from reconciler.emulator.routing import Call, Operation, Reply

ACTIVE_MODEL_VERSION = "default"


def _all_steps(model: Mapping[str, Any], now: float) -> list[int]:
    if lifecycle.model_status(model, now) != lifecycle.COMPLETED:
        return []
    parameters = json.loads(model["training_parameters"])
    interval, total = parameters.get("checkpoint_interval"), parameters.get("total_training_steps")
    if not interval or not total:
        return []
    return list(range(interval, total + 1, interval))


def saved_steps(model: Mapping[str, Any], now: float) -> list[int]:
    """The checkpoint steps a model has now (ascending), without deleted ones."""
    deleted = set(json.loads(model["deleted_checkpoints"] or "[]"))
    return [step for step in _all_steps(model, now) if step not in deleted]


def _active_step(model: Mapping[str, Any], now: float) -> int | None:
    steps = _all_steps(model, now)
    return steps[-1] if steps else None


def _checkpoint_json(model: Mapping[str, Any], step: int) -> dict[str, Any]:
    parameters = json.loads(model["training_parameters"])
    started, ends = model["training_started_at"], model["training_ends_at"]
    at = started + (ends - started) * step / parameters["total_training_steps"]
    return {"checkpoint_step": step, "training_job_id": model["id"], "created_at": lifecycle.iso(at)}


def _expert_model(call: Call, db) -> Any:
    model = db.owned("models", call.org_id, call.params["id"])   # not resources: it imports us
    if model is None:
        raise not_found("model")
    if model["training_mode"] != "expert":
        raise bad_request("checkpoints are only available for models trained in expert mode")
    return model


def _step(call: Call, model: Mapping[str, Any]) -> int:
    step = call.params["step"]
    if step not in saved_steps(model, call.now):
        raise not_found("checkpoint")
    return step


def list_checkpoints(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = _expert_model(call, db)
    return Reply(200, {"checkpoints": [_checkpoint_json(model, step) for step in saved_steps(model, call.now)],
                       "active_model_version": ACTIVE_MODEL_VERSION})


def get_checkpoint(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = _expert_model(call, db)
    return Reply(200, _checkpoint_json(model, _step(call, model)))


def delete_checkpoint(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = _expert_model(call, db)
        step = _step(call, model)
        if step == _active_step(model, call.now):
            raise bad_request("cannot delete the active checkpoint (the one selected for inference)")
        deleted = sorted({*json.loads(model["deleted_checkpoints"] or "[]"), step})
        db.update("models", model["id"], {"deleted_checkpoints": json.dumps(deleted), "updated_at": call.now})
    return Reply(204)


OPERATIONS = (
    Operation("GET", "/tailored-gen/models/{id}/checkpoints", list_checkpoints, mutates=False),
    Operation("GET", "/tailored-gen/models/{id}/checkpoints/{step}", get_checkpoint, mutates=False),
    Operation("DELETE", "/tailored-gen/models/{id}/checkpoints/{step}", delete_checkpoint),
)
