"""Datasets: create, list, get (with images), update, delete, clone as draft.

A completed dataset is frozen: its caption prefix and images cannot change and it cannot
return to draft — the way forward is a clone. One rule beyond the documented API: a dataset
cannot be completed while its captions are being regenerated (409), so a client that forgets
to wait for regeneration is caught here rather than training on stale captions.
"""

from __future__ import annotations

from reconciler.emulator import captions, lifecycle
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
    return dataset_json(dataset, call.now, image_count(db, dataset["id"]), images)


def create_dataset(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("project_id", "name", "upload_type"))
    project_id = required_int(body, "project_id")
    name = required_str(body, "name")
    if one_of(body, "upload_type", ("basic", "advanced"), default="basic") != "basic":
        raise bad_request("the emulator supports only upload_type basic")
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, project_id)
        prefix = captions.default_caption_prefix(project["project_name"], project["ip_type"], project["ip_medium"],
                                                 project["ip_name"], project["ip_description"])
        dataset_id = db.insert("datasets", {
            "org_id": call.org_id, "project_id": project_id, "name": name, "status": DRAFT,
            "caption_prefix": prefix, "captions_status": "empty", "captions_due_at": None,
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


def update_dataset(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("name", "caption_prefix", "status"))
    changes = {}
    if "name" in body:
        changes["name"] = required_str(body, "name")
    if "caption_prefix" in body:
        prefix = optional_str(body, "caption_prefix")
        if prefix is None:
            raise bad_request("caption_prefix must be a string")
        changes["caption_prefix"] = prefix
    status = one_of(body, "status", (DRAFT, COMPLETED))
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, call.params["id"])
        if "caption_prefix" in changes and dataset["status"] == COMPLETED:
            raise conflict("caption_prefix cannot change on a completed dataset; clone it as a draft instead")
        if status == DRAFT and dataset["status"] == COMPLETED:
            raise conflict("a completed dataset cannot return to draft; clone it instead")
        if status == COMPLETED and dataset["status"] == DRAFT:
            _check_completable(db, call, dataset)
            changes["status"] = COMPLETED
        db.update("datasets", dataset["id"], {**changes, "updated_at": call.now})
        return Reply(200, _view(db, call, owned_dataset(db, call.org_id, dataset["id"])))


def _check_completable(db: Db, call: Call, dataset: Row) -> None:
    if image_count(db, dataset["id"]) < 1:
        raise bad_request("a dataset needs at least 1 image to be completed")
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
    """A new draft in the same project with the prefix and copies of every image."""
    body = call.json()
    reject_unknown(body, ("name", "description"))
    # name is optional (default "Copy of <name>"), but a name that is sent must be a real
    # one, as at create: a blank name is a client mistake, not a request for the default.
    name = required_str(body, "name") if body.get("name") is not None else None
    optional_str(body, "description")  # documented (Gen B) but datasets have no description
    with call.store.transaction() as db:
        source = owned_dataset(db, call.org_id, call.params["id"])
        fields = {key: source[key] for key in ("org_id", "project_id", "caption_prefix",
                                               "captions_status", "captions_due_at")}
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
