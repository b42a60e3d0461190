"""Datasets: create, list, get (with images), update, delete, clone as draft.

A completed dataset is frozen: its caption prefix and images cannot change and it cannot
return to draft — the way forward is a clone. One rule beyond the documented API: a dataset
cannot be completed while its captions are being regenerated (409), so a client that forgets
to wait for regeneration is caught here rather than training on stale captions.
"""

from __future__ import annotations

from reconciler.emulator import captions, dialects, lifecycle, visual_schemas
from reconciler.emulator.errors import bad_request, conflict
from reconciler.emulator.resources import (busy_models, dataset_json, image_count, images_of,
                                           owned_dataset, owned_project)
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.store import Db, Row
from reconciler.emulator.validation import (int_in_range, one_of, optional_str, reject_unknown,
                                            required_int, required_str)

DRAFT, COMPLETED = "draft", "completed"
MAX_IMAGES = 200


def _view(db: Db, call: Call, dataset: Row, with_images: int | None = None) -> dict:
    images = images_of(db, dataset["id"], with_images) if with_images is not None else None
    return dataset_json(dataset, call.now, image_count(db, dataset["id"]), images, dialect=call.config.dialect)


def _requested_version(call: Call, body: dict) -> str | None:
    """The dataset's training_version: chosen in the mixed dialect (default `max`), always
    `fibo` in the fibo dialect, none in the legacy one."""
    if call.config.dialect == dialects.MIXED:
        return one_of(body, "training_version", dialects.DATASET_VERSIONS, default=dialects.DEFAULT_DATASET_VERSION)
    return "fibo" if call.config.dialect == dialects.FIBO else None


def _lock_project(db: Db, project: Row, version: str | None) -> None:
    """A project takes the family of its first dataset; later ones must match it."""
    if version is None:
        return
    dialects.check_compatible("dataset", version, project["training_version"])
    if project["training_version"] is None:
        db.update("projects", project["id"], {"training_version": version})


def create_dataset(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("project_id", "name", "upload_type", *dialects.dataset_create_fields(call.config.dialect)))
    project_id = required_int(body, "project_id")
    name = required_str(body, "name")
    if one_of(body, "upload_type", ("basic", "advanced"), default="basic") != "basic":
        raise bad_request("the emulator supports only upload_type basic")
    version = _requested_version(call, body)
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, project_id)
        _lock_project(db, project, version)
        prefix = None
        if dialects.version_family(version) == dialects.LEGACY_FAMILY:
            prefix = captions.default_caption_prefix(project["project_name"], project["ip_type"],
                                                     project["ip_medium"], project["ip_name"],
                                                     project["ip_description"])
        dataset_id = db.insert("datasets", {
            "org_id": call.org_id, "project_id": project_id, "name": name, "status": DRAFT,
            "caption_prefix": prefix, "visual_schema": None, "training_version": version,
            "captions_status": "empty", "captions_due_at": None,
            "created_at": call.now, "updated_at": call.now})
        return Reply(201, _view(db, call, owned_dataset(db, call.org_id, dataset_id)))


def list_datasets(call: Call) -> Reply:
    with call.store.transaction() as db:
        rows = db.query("SELECT * FROM datasets WHERE org_id = ? ORDER BY id", (call.org_id,))
        return Reply(200, [_view(db, call, row) for row in rows])


def list_project_datasets(call: Call) -> Reply:
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, call.params["id"])
        rows = db.query("SELECT * FROM datasets WHERE project_id = ? ORDER BY id", (project["id"],))
        return Reply(200, [_view(db, call, row) for row in rows])


def get_dataset(call: Call) -> Reply:
    raw = call.query.get("max_images", str(MAX_IMAGES))
    try:
        max_images = int(raw)
    except ValueError:
        raise bad_request("max_images must be an integer between 1 and 200") from None
    int_in_range(max_images, "max_images", 1, MAX_IMAGES)
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, call.params["id"])
        return Reply(200, _view(db, call, dataset, with_images=max_images))


def _requested_changes(call: Call, body: dict) -> dict:
    if "training_version" in body and call.config.dialect == dialects.MIXED:
        raise bad_request("training_version cannot be updated")
    reject_unknown(body, ("name", "status", *dialects.dataset_update_fields(call.config.dialect)))
    changes = {}
    if "name" in body:
        changes["name"] = required_str(body, "name")
    if "caption_prefix" in body:
        prefix = optional_str(body, "caption_prefix")
        if prefix is None:
            raise bad_request("caption_prefix must be a string")
        changes["caption_prefix"] = prefix
    if "visual_schema" in body:
        changes["visual_schema"] = visual_schemas.checked_schema(body["visual_schema"])
    return changes


def update_dataset(call: Call) -> Reply:
    body = call.json()
    changes = _requested_changes(call, body)
    status = one_of(body, "status", (DRAFT, COMPLETED))
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, call.params["id"])
        family = dialects.dataset_family(call.config.dialect, dataset)
        dialects.check_family_field(call.config.dialect, family, changes)
        for frozen in ("caption_prefix", "visual_schema"):
            if frozen in changes and dataset["status"] == COMPLETED:
                raise conflict(f"cannot update {frozen} for a completed dataset; clone it as a draft instead")
        if status == DRAFT and dataset["status"] == COMPLETED:
            raise conflict("a completed dataset cannot return to draft; clone it instead")
        if status == COMPLETED and dataset["status"] == DRAFT:
            _check_completable(db, call, {**dict(dataset), **changes}, family)
            changes["status"] = COMPLETED
        db.update("datasets", dataset["id"], {**changes, "updated_at": call.now})
        return Reply(200, _view(db, call, owned_dataset(db, call.org_id, dataset["id"])))


def _check_completable(db: Db, call: Call, dataset: dict, family: str) -> None:
    """Legacy: at least 1 image (else 400, as generation A's contract). FIBO: at least 5
    images and a visual schema (else 409, generation C); and — where the docs are silent —
    no image still waiting for its caption (409), so no model trains on null captions."""
    needed = dialects.MIN_IMAGES_TO_COMPLETE[family]
    if family == dialects.LEGACY_FAMILY and image_count(db, dataset["id"]) < needed:
        raise bad_request("a dataset needs at least 1 image to be completed")
    if family == dialects.FIBO_FAMILY:
        if image_count(db, dataset["id"]) < needed:
            raise conflict(f"insufficient images to complete: a dataset needs at least {needed} images")
        if dataset["visual_schema"] is None:
            raise conflict("a dataset needs a visual_schema (from /generate_visual_schema) to be completed")
        if db.count("SELECT COUNT(*) FROM images WHERE dataset_id = ? AND caption_source = ?",
                    (dataset["id"], dialects.PENDING)):
            raise conflict("some images have no caption yet (caption_source pending); regenerate all captions first")
    if lifecycle.captions_update_status(dataset, call.now) == "in_progress":
        raise conflict("captions are being regenerated; wait until captions_update_status is completed")


def delete_dataset(call: Call) -> Reply:
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, call.params["id"])
        # The contract names InProgress; a Stopping model is still winding its training
        # down, so it counts too — as for project and model deletes (research §4.5: "used
        # by a model that is currently training").
        if busy_models(db, call.now, "dataset_id", dataset["id"]):
            raise conflict("Cannot delete a dataset used by a model in training")
        db.execute("DELETE FROM images WHERE dataset_id = ?", (dataset["id"],))
        db.execute("DELETE FROM datasets WHERE id = ?", (dataset["id"],))
    return Reply(204)


def clone_dataset(call: Call) -> Reply:
    """A new draft in the same project with the prefix or visual schema (and the training
    version) and copies of every image."""
    body = call.json()
    reject_unknown(body, ("name", "description"))
    # name is optional (default "Copy of <name>"), but a name that is sent must be a real
    # one, as at create: a blank name is a client mistake, not a request for the default.
    name = required_str(body, "name") if body.get("name") is not None else None
    optional_str(body, "description")  # documented (Gen B) but datasets have no description
    with call.store.transaction() as db:
        source = owned_dataset(db, call.org_id, call.params["id"])
        fields = {key: source[key] for key in ("org_id", "project_id", "caption_prefix", "visual_schema",
                                               "training_version", "captions_status", "captions_due_at")}
        clone_id = db.insert("datasets", {**fields, "name": name or f"Copy of {source['name']}",
                                          "status": DRAFT, "created_at": call.now, "updated_at": call.now})
        db.execute(
            "INSERT INTO images (org_id, dataset_id, image_name, sha256, width, height, format,"
            " caption, caption_source, created_at, updated_at)"
            " SELECT org_id, ?, image_name, sha256, width, height, format, caption, caption_source, ?, ?"
            " FROM images WHERE dataset_id = ? ORDER BY id",
            (clone_id, call.now, call.now, source["id"]))
        clone = owned_dataset(db, call.org_id, clone_id)
        return Reply(201, _view(db, call, clone, with_images=MAX_IMAGES))


OPERATIONS = (
    Operation("POST", "/tailored-gen/datasets", create_dataset),
    Operation("GET", "/tailored-gen/datasets", list_datasets, mutates=False),
    Operation("GET", "/tailored-gen/datasets/{id}", get_dataset, mutates=False),
    Operation("PUT", "/tailored-gen/datasets/{id}", update_dataset),
    Operation("DELETE", "/tailored-gen/datasets/{id}", delete_dataset),
    Operation("POST", "/tailored-gen/datasets/{id}/clone", clone_dataset),
    Operation("GET", "/tailored-gen/projects/{id}/datasets", list_project_datasets, mutates=False),
)
