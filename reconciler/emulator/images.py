"""Images of a dataset and their captions: upload, list, get, caption edits, delete, and
"regenerate all captions" (an asynchronous job settled lazily by `settle_caption_jobs`).

Uploads are checked on the decoded bytes — format (415), size (412) — before any
transaction opens, so the slow part never holds the database lock.
"""

from __future__ import annotations

from reconciler.emulator import dialects
from reconciler.emulator.datasets import COMPLETED, MAX_IMAGES
from reconciler.emulator.errors import ApiError, bad_request, conflict, precondition_failed
from reconciler.emulator.imagedata import ImageInfo, decode_base64, inspect_image
from reconciler.emulator.resources import (dataset_json, image_count, image_json, images_of, owned_dataset,
                                           owned_image)
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.store import Db, Row, Store
from reconciler.emulator.validation import optional_bool, optional_str, reject_unknown

MIN_SIDE = 256
FULL_RESOLUTION_SIDE = 1024
AUTOMATIC, MANUAL = "automatic", "manual"


def _check_size(info: ImageInfo, increase_resolution: bool) -> None:
    if info.width < MIN_SIDE or info.height < MIN_SIDE:
        raise precondition_failed(f"image is {info.width}x{info.height}; the minimum is {MIN_SIDE}x{MIN_SIDE}")
    if not increase_resolution and (info.width < FULL_RESOLUTION_SIDE or info.height < FULL_RESOLUTION_SIDE):
        raise precondition_failed(
            f"image is {info.width}x{info.height}; with increase_resolution false the minimum is "
            f"{FULL_RESOLUTION_SIDE}x{FULL_RESOLUTION_SIDE}")


def _writable_dataset(call: Call, db: Db, dataset_id: int) -> Row:
    dataset = owned_dataset(db, call.org_id, dataset_id)
    if dataset["status"] == COMPLETED:
        raise conflict("dataset is completed; clone it as a draft to change its images or captions")
    return dataset


def upload_image(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, ("file", "image_url", "image_name", "increase_resolution", "content_moderation"))
    if "image_url" in body:
        raise bad_request("image_url uploads are not supported by the emulator (it fetches nothing); send file")
    image_name = optional_str(body, "image_name")
    increase_resolution = optional_bool(body, "increase_resolution", True)
    optional_bool(body, "content_moderation", False)
    with call.store.transaction() as db:   # 404 / 409 before the (slower) image checks
        _writable_dataset(call, db, call.params["id"])
    data = decode_base64(body.get("file"), "file")
    if len(data) > call.config.max_image_bytes:
        raise ApiError(413, f"image is larger than {call.config.max_image_bytes // 1_000_000} MB "
                            f"({len(data)} bytes)")
    info = inspect_image(data)
    _check_size(info, increase_resolution)
    with call.store.transaction() as db:   # checked again: another request may have completed it
        dataset = _writable_dataset(call, db, call.params["id"])
        if image_count(db, dataset["id"]) >= MAX_IMAGES:
            raise conflict(f"dataset already holds the maximum of {MAX_IMAGES} images")
        caption, source = dialects.automatic_caption(call.config.dialect, dataset, info.sha256)
        image_id = db.insert("images", {
            "org_id": call.org_id, "dataset_id": dataset["id"], "image_name": image_name,
            "sha256": info.sha256, "width": info.width, "height": info.height, "format": info.format,
            "caption": caption, "caption_source": source, "created_at": call.now, "updated_at": call.now})
        return Reply(201, image_json(owned_image(db, call.org_id, dataset["id"], image_id)))


def list_images(call: Call) -> Reply:
    with call.store.transaction() as db:
        dataset = owned_dataset(db, call.org_id, call.params["id"])
        return Reply(200, [image_json(row) for row in images_of(db, dataset["id"])])


def get_image(call: Call) -> Reply:
    with call.store.transaction() as db:
        return Reply(200, image_json(owned_image(db, call.org_id, call.params["id"], call.params["image_id"])))


def update_image(call: Call) -> Reply:
    """Exactly one of `caption` (→ manual) or `regenerate_caption: true` (→ automatic)."""
    body = call.json()
    reject_unknown(body, ("caption", "regenerate_caption"))
    regenerate = optional_bool(body, "regenerate_caption", False)
    caption = optional_str(body, "caption")
    if (caption is not None) == regenerate:
        raise bad_request("send exactly one of caption or regenerate_caption: true")
    if caption is not None and not caption.strip():
        raise bad_request("caption must not be empty")
    with call.store.transaction() as db:
        dataset = _writable_dataset(call, db, call.params["id"])
        image = owned_image(db, call.org_id, dataset["id"], call.params["image_id"])
        if regenerate:
            _check_captionable(call, dataset)
            automatic, source = dialects.automatic_caption(call.config.dialect, dataset, image["sha256"])
            changes = {"caption": automatic, "caption_source": source}
        else:
            changes = {"caption": dialects.manual_caption(call.config.dialect, dataset, caption),
                       "caption_source": MANUAL}
        db.update("images", image["id"], {**changes, "updated_at": call.now})
        return Reply(200, image_json(owned_image(db, call.org_id, dataset["id"], image["id"])))


def _check_captionable(call: Call, dataset: Row) -> None:
    """Regenerating FIBO captions needs a visual schema. The docs are silent on the status;
    it is a state conflict (the dataset must change first), so 409."""
    if (dialects.dataset_family(call.config.dialect, dataset) == dialects.FIBO_FAMILY
            and dataset["visual_schema"] is None):
        raise conflict("the dataset has no visual_schema yet; set one before regenerating captions")


def delete_image(call: Call) -> Reply:
    with call.store.transaction() as db:
        dataset = _writable_dataset(call, db, call.params["id"])
        image = owned_image(db, call.org_id, dataset["id"], call.params["image_id"])
        db.execute("DELETE FROM images WHERE id = ?", (image["id"],))
    return Reply(204)


def regenerate_all_captions(call: Call) -> Reply:
    """Starts the job: 202 with `captions_update_status: in_progress`; the captions change
    when the job ends, `captions_seconds` later (see `settle_caption_jobs`)."""
    with call.store.transaction() as db:
        dataset = _writable_dataset(call, db, call.params["id"])
        _check_captionable(call, dataset)
        db.update("datasets", dataset["id"], {"captions_due_at": call.now + call.config.captions_seconds,
                                              "updated_at": call.now})
        dataset = owned_dataset(db, call.org_id, dataset["id"])
        if call.config.captions_seconds == 0:
            _finish_caption_job(db, dataset, call.now, call.config.dialect)
            dataset = owned_dataset(db, call.org_id, dataset["id"])
        view = dataset_json(dataset, call.now, image_count(db, dataset["id"]), dialect=call.config.dialect)
        # The answer describes the job this call started (the contract: in_progress), even
        # when captions_seconds is 0 and the job is already done.
        return Reply(202, {**view, "captions_update_status": "in_progress"})


def settle_caption_jobs(store: Store, now: float, dialect: str = dialects.LEGACY) -> None:
    """Applies every regeneration job whose time has come: all captions become automatic,
    from the dataset's current prefix or visual schema. Runs before each request; cheap
    when nothing is due."""
    with store.transaction() as db:
        for dataset in db.query("SELECT * FROM datasets WHERE captions_due_at IS NOT NULL AND captions_due_at <= ?",
                                (now,)):
            _finish_caption_job(db, dataset, now, dialect)


def _finish_caption_job(db: Db, dataset: Row, now: float, dialect: str) -> None:
    for image in images_of(db, dataset["id"]):
        caption, source = dialects.automatic_caption(dialect, dataset, image["sha256"])
        db.update("images", image["id"], {"caption": caption, "caption_source": source, "updated_at": now})
    db.update("datasets", dataset["id"], {"captions_status": "completed", "captions_due_at": None})


OPERATIONS = (
    Operation("POST", "/tailored-gen/datasets/{id}/images", upload_image),
    Operation("GET", "/tailored-gen/datasets/{id}/images", list_images, mutates=False),
    Operation("PUT", "/tailored-gen/datasets/{id}/images", regenerate_all_captions),
    Operation("GET", "/tailored-gen/datasets/{id}/images/{image_id}", get_image, mutates=False),
    Operation("PUT", "/tailored-gen/datasets/{id}/images/{image_id}", update_image),
    Operation("DELETE", "/tailored-gen/datasets/{id}/images/{image_id}", delete_image),
)
