"""Models: create, list, get, update, delete, start/stop training, download.

Training is a pair of stored timestamps, not a job: start_training records when it ends and
(decided now, with the seeded `failure_rate`) whether it fails; the status is derived from
the clock at every read (`lifecycle.model_status`).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator import dialects, lifecycle
from reconciler.emulator.datasets import COMPLETED
from reconciler.emulator.errors import bad_request, conflict, precondition_failed
from reconciler.emulator.resources import model_json, owned_dataset, owned_model, owned_project
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.validation import (int_in_range, number_in_range, one_of, optional_str,
                                            reject_unknown, required_int, required_str)

TRAINING_MODES = ("fully_automated", "expert")
LR_SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")
EXPERT_PARAMETERS = tuple(dialects.LEGACY_EXPERT_DEFAULTS)
BASE_MODEL_NAMES = {"light": "BRIA-2.3-FAST", "max": "BRIA-3.2", "bria-2.3": "BRIA-2.3", "bria-3.2": "BRIA-3.2",
                    "fibo": "BRIA-FIBO"}
DOWNLOAD_HOST = "https://emulator.bria.local"


def _view(call: Call, model: Any, status: str | None = None) -> dict[str, Any]:
    return model_json(model, call.now, status, dialect=call.config.dialect)


def create_model(call: Call) -> Reply:
    """In the fibo dialect a model has no training_version (stored as `fibo`); in the mixed
    one a fibo model needs a fibo dataset and a legacy model a legacy dataset (400)."""
    dialect = call.config.dialect
    body = call.json()
    reject_unknown(body, ("name", "dataset_id", "training_mode", "description", *dialects.model_create_fields(dialect)))
    values = {
        "name": required_str(body, "name"),
        "description": optional_str(body, "description"),
        "training_version": "fibo" if dialect == dialects.FIBO else one_of(
            body, "training_version", dialects.model_versions(dialect), default=dialects.DEFAULT_MODEL_VERSION),
        "training_mode": one_of(body, "training_mode", TRAINING_MODES, default="fully_automated"),
    }
    dataset_id = required_int(body, "dataset_id")
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, dataset_id)
        if dialect == dialects.MIXED:
            dialects.check_compatible("model", values["training_version"], dataset["training_version"])
        legacy = dialects.version_family(values["training_version"]) == dialects.LEGACY_FAMILY
        model_id = db.insert("models", {
            **values, "org_id": call.org_id, "project_id": dataset["project_id"], "dataset_id": dataset_id,
            "training_parameters": "{}", "generation_prefix": "" if legacy else None,
            "created_at": call.now, "updated_at": call.now})
        return Reply(201, _view(call, owned_model(db, call.org_id, model_id)))


def list_models(call: Call) -> Reply:
    with call.store.transaction() as db:
        rows = db.query("SELECT * FROM models WHERE org_id = ? ORDER BY id", (call.org_id,))
    return Reply(200, [_view(call, row) for row in rows])


def list_project_models(call: Call) -> Reply:
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, call.params["id"])
        rows = db.query("SELECT * FROM models WHERE project_id = ? ORDER BY id", (project["id"],))
    return Reply(200, [_view(call, row) for row in rows])


def get_model(call: Call) -> Reply:
    with call.store.transaction() as db:
        return Reply(200, _view(call, owned_model(db, call.org_id, call.params["id"])))


def update_model(call: Call) -> Reply:
    body = call.json()
    others = sorted(set(body) - {"name", "description"})
    if others:
        raise bad_request(f"only name and description can be updated, not {', '.join(others)}")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = required_str(body, "name")
    if "description" in body:
        changes["description"] = optional_str(body, "description")
    with call.store.transaction() as db:
        model = owned_model(db, call.org_id, call.params["id"])
        db.update("models", model["id"], {**changes, "updated_at": call.now})
        return Reply(200, _view(call, owned_model(db, call.org_id, model["id"])))


def delete_model(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = owned_model(db, call.org_id, call.params["id"])
        if lifecycle.model_status(model, call.now) in lifecycle.BUSY_MODEL_STATUSES:
            raise conflict("Cannot delete a model that is currently in training")
        if call.config.soft_delete_models:
            db.update("models", model["id"], {"deleted_at": call.now, "updated_at": call.now})
        else:
            db.execute("DELETE FROM models WHERE id = ?", (model["id"],))
    return Reply(204)


def training_parameters(body: dict[str, Any], training_mode: str, family: str = dialects.LEGACY_FAMILY
                        ) -> dict[str, Any]:
    """The resolved parameters: `{}` for fully automated models; expert values (checked
    against the documented ranges) over the family's defaults for expert models."""
    reject_unknown(body, EXPERT_PARAMETERS)
    if training_mode != "expert":
        if body:
            raise bad_request("training parameters are accepted only for expert models")
        return {}
    defaults = dialects.expert_defaults(family)
    params = {**defaults, **body}
    one_of(params, "lr_scheduler", LR_SCHEDULERS)
    number_in_range(params["learning_rate"], "learning_rate", 1e-6, 1e-3)
    steps = int_in_range(params["total_training_steps"], "total_training_steps", 1, 5000)
    int_in_range(params["rank"], "rank", 4, 256)
    int_in_range(params["lr_warmup_steps"], "lr_warmup_steps", 0, 1000)
    if "checkpoint_interval" in body:
        _check_checkpoint_interval(body["checkpoint_interval"], steps)
    else:
        # A default the caller never sent cannot make its request invalid: with fewer steps
        # than the default interval, the one checkpoint is the last step.
        params["checkpoint_interval"] = min(defaults["checkpoint_interval"], steps)
    return params


def _check_checkpoint_interval(value: Any, total_training_steps: int) -> None:
    """At least 100 (Gen B/C) and at most the total steps (Gen A): a checkpoint must fall
    within training."""
    int_in_range(value, "checkpoint_interval", 100)
    if value > total_training_steps:
        raise bad_request(f"checkpoint_interval must not exceed total_training_steps ({total_training_steps})")


def start_training(call: Call) -> Reply:
    body = call.json()
    with call.store.transaction() as db:
        model = owned_model(db, call.org_id, call.params["id"])
        params = training_parameters(body, model["training_mode"], dialects.model_family(call.config.dialect, model))
        if lifecycle.model_status(model, call.now) != lifecycle.CREATED:
            raise conflict("training already started; a model cannot be trained twice or resumed")
        dataset = db.owned("datasets", call.org_id, model["dataset_id"])
        if dataset is None or dataset["status"] != COMPLETED:
            raise precondition_failed("dataset status must be 'completed' to start training")
        db.update("models", model["id"], {
            "training_parameters": json.dumps(params),
            "generation_prefix": dataset["caption_prefix"] if model["generation_prefix"] is not None else None,
            "training_started_at": call.now, "training_ends_at": call.now + call.config.training_seconds,
            "will_fail": int(call.dice.training_fails()), "updated_at": call.now})
        # The answer describes the transition this call made (the contract: InProgress),
        # even when `training_seconds` is 0 and a read right after already sees the end.
        return Reply(200, _view(call, owned_model(db, call.org_id, model["id"]), status=lifecycle.IN_PROGRESS))


def stop_training(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = owned_model(db, call.org_id, call.params["id"])
        if lifecycle.model_status(model, call.now) != lifecycle.IN_PROGRESS:
            raise conflict("model is not training")
        db.update("models", model["id"], {"stop_requested_at": call.now,
                                          "stopped_at": call.now + call.config.stopping_seconds,
                                          "updated_at": call.now})
        # Stopping, as the contract's InProgress → Stopping → Stopped, even with stopping_seconds 0.
        return Reply(200, _view(call, owned_model(db, call.org_id, model["id"]), status=lifecycle.STOPPING))


def download_model(call: Call) -> Reply:
    with call.store.transaction() as db:
        model = owned_model(db, call.org_id, call.params["id"])
    if lifecycle.model_status(model, call.now) != lifecycle.COMPLETED:
        raise conflict("model weights are available only once training is Completed")
    answer = {"download_url": f"{DOWNLOAD_HOST}/models/{model['id']}/weights.safetensors",
              "base_model_name": BASE_MODEL_NAMES[model["training_version"]]}
    if model["generation_prefix"] is not None:   # legacy models only
        answer["generation_prefix"] = model["generation_prefix"]
    return Reply(200, answer)


OPERATIONS = (
    Operation("POST", "/tailored-gen/models", create_model),
    Operation("GET", "/tailored-gen/models", list_models, mutates=False),
    Operation("GET", "/tailored-gen/models/{id}", get_model, mutates=False),
    Operation("PUT", "/tailored-gen/models/{id}", update_model),
    Operation("DELETE", "/tailored-gen/models/{id}", delete_model),
    Operation("POST", "/tailored-gen/models/{id}/start_training", start_training),
    Operation("POST", "/tailored-gen/models/{id}/stop_training", stop_training),
    Operation("GET", "/tailored-gen/models/{id}/download", download_model, mutates=False),
    Operation("GET", "/tailored-gen/projects/{id}/models", list_project_models, mutates=False),
)
