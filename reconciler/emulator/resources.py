"""Rows → the API's JSON objects, and organisation-scoped lookups (another organisation's
id is answered 404, exactly like an id that does not exist)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator import checkpoints, dialects, lifecycle
from reconciler.emulator.errors import not_found
from reconciler.emulator.store import Db, Row, is_storable_id

IMAGE_HOST = "https://emulator.bria.local"


def project_json(row: Row, dialect: str = dialects.LEGACY) -> dict[str, Any]:
    return dialects.shape_project({
        "id": row["id"],
        "project_name": row["project_name"],
        "project_description": row["project_description"],
        "ip_name": row["ip_name"],
        "ip_description": row["ip_description"],
        "ip_medium": row["ip_medium"],
        "ip_type": row["ip_type"],
        "status": "active",
        "created_at": lifecycle.iso(row["created_at"]),
        "updated_at": lifecycle.iso(row["updated_at"]),
    }, row, dialect)


def dataset_json(row: Row, now: float, images_count: int, images: list[Row] | None = None,
                 dialect: str = dialects.LEGACY) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row["id"],
        "project_id": row["project_id"],
        "name": row["name"],
        "status": row["status"],
        "captions_update_status": lifecycle.captions_update_status(row, now),
        "upload_type": "basic",
        "images_count": images_count,
        "created_at": lifecycle.iso(row["created_at"]),
        "updated_at": lifecycle.iso(row["updated_at"]),
    }
    if images is not None:
        view["images"] = [image_json(image) for image in images]
    return dialects.shape_dataset(view, row, dialect)


def image_json(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "dataset_id": row["dataset_id"],
        "caption": row["caption"],
        "caption_source": row["caption_source"],
        "image_name": row["image_name"],
        "image_url": f"{IMAGE_HOST}/images/{row['id']}.png",
        "thumbnail_url": f"{IMAGE_HOST}/images/{row['id']}_thumbnail.png",
        "created_at": lifecycle.iso(row["created_at"]),
        "updated_at": lifecycle.iso(row["updated_at"]),
    }


def model_json(row: Row, now: float, status: str | None = None, dialect: str = dialects.LEGACY) -> dict[str, Any]:
    """`status` overrides the clock-derived status (for the answer to a transition)."""
    status = status or lifecycle.model_status(row, now)
    parameters = json.loads(row["training_parameters"])
    return dialects.shape_model({
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "status": status,
        "training_mode": row["training_mode"],
        "project_id": row["project_id"],
        "dataset_id": row["dataset_id"],
        "active_model_version": "default",
        "training_parameters": parameters,
        "checkpoint_steps": [str(step) for step in checkpoints.saved_steps(row, now)],
        "created_at": lifecycle.iso(row["created_at"]),
        "updated_at": lifecycle.iso(row["updated_at"]),
    }, row, dialect)


def owned(db: Db, table: str, org_id: int, row_id: int, what: str) -> Row:
    row = db.owned(table, org_id, row_id)
    if row is None:
        raise not_found(what)
    return row


def owned_project(db: Db, org_id: int, project_id: int) -> Row:
    return owned(db, "projects", org_id, project_id, "project")


def owned_dataset(db: Db, org_id: int, dataset_id: int) -> Row:
    return owned(db, "datasets", org_id, dataset_id, "dataset")


def owned_model(db: Db, org_id: int, model_id: int) -> Row:
    return owned(db, "models", org_id, model_id, "model")


def owned_image(db: Db, org_id: int, dataset_id: int, image_id: int) -> Row:
    owned_dataset(db, org_id, dataset_id)
    if not is_storable_id(image_id):
        raise not_found("image")
    rows = db.query("SELECT * FROM images WHERE id = ? AND dataset_id = ?", (image_id, dataset_id))
    if not rows:
        raise not_found("image")
    return rows[0]


def images_of(db: Db, dataset_id: int, limit: int | None = None) -> list[Row]:
    sql = "SELECT * FROM images WHERE dataset_id = ? ORDER BY id"
    if limit is not None:
        return db.query(sql + " LIMIT ?", (dataset_id, limit))
    return db.query(sql, (dataset_id,))


def image_count(db: Db, dataset_id: int) -> int:
    return db.count("SELECT COUNT(*) FROM images WHERE dataset_id = ?", (dataset_id,))


def busy_models(db: Db, now: float, column: str, value: int) -> list[Row]:
    """Models (where `column` = value) that are InProgress or Stopping right now."""
    rows = db.query(f"SELECT * FROM models WHERE {column} = ?", (value,))
    return [row for row in rows if lifecycle.model_status(row, now) in lifecycle.BUSY_MODEL_STATUSES]
