"""Pure functions that record API objects into State (no I/O).

Used both by the steps (after a call returns) and by journal adoption (after a lookup
finds an object whose creating response was lost), so an adopted object is recorded exactly
as a normally created one would have been.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping

from reconciler.identity import id_order, is_content_key, match_images, stray_key
from reconciler.model import FIBO_TRAINING_VERSION, address
from reconciler.state.model import (DatasetRecord, DatasetVersion, ImageRecord, ModelRecord, ProjectRecord,
                                    State, SupersededModel)
from reconciler.status import ModelStatus
from reconciler.stepargs import DeleteImageArgs

# API project body field → ProjectRecord.applied field
PROJECT_FIELDS = {"project_name": "name", "project_description": "description", "ip_type": "ip_type",
                  "ip_medium": "ip_medium", "ip_name": "ip_name", "ip_description": "ip_description"}


class StepFailed(Exception):
    """A step cannot run or did not do what it should; the message is shown to the user."""


def project_applied(fields: Mapping[str, Any]) -> dict[str, Any]:
    """ProjectRecord.applied from API fields (accepts API names or applied names)."""
    applied: dict[str, Any] = {}
    for api_name, name in PROJECT_FIELDS.items():
        if api_name in fields:
            applied[name] = fields[api_name]
        elif name in fields:
            applied[name] = fields[name]
    return applied


def record_project(state: State, key: str, remote: Mapping[str, Any]) -> State:
    return state.with_resource(address("project", key), ProjectRecord(int(remote["id"]), project_applied(remote)))


def update_project_applied(state: State, key: str, fields: Mapping[str, Any]) -> State:
    record = require_project(state, key)
    applied = {**record.applied, **project_applied(fields)}
    return state.with_resource(address("project", key), replace(record, applied=applied))


def require_project(state: State, key: str) -> ProjectRecord:
    record = state.projects.get(key)
    if record is None:
        raise StepFailed(f"{address('project', key)} is not in state (was it created?)")
    return record


def require_dataset_version(state: State, key: str) -> DatasetVersion:
    record = state.datasets.get(key)
    if record is None or record.current is None:
        raise StepFailed(f"{address('dataset', key)} has no version in state (was it created?)")
    return record.current


def require_model(state: State, key: str) -> ModelRecord:
    record = state.models.get(key)
    if record is None:
        raise StepFailed(f"{address('model', key)} is not in state (was it created?)")
    return record


def image_record(remote: Mapping[str, Any]) -> ImageRecord:
    return ImageRecord(int(remote["id"]), remote.get("image_name") or "", remote.get("caption"),
                       remote.get("caption_source") or "unknown")


def record_dataset_version(state: State, key: str, project_key: str, remote: Mapping[str, Any],
                           images: Mapping[str, ImageRecord] | None = None) -> State:
    """Append (or replace, for the same remote id) the current version of dataset `key`."""
    version = DatasetVersion(int(remote["id"]), remote.get("name") or "", remote.get("status") or "draft",
                             remote.get("caption_prefix"), dict(images or {}), remote.get("visual_schema"))
    existing = state.datasets.get(key)
    record = existing if existing is not None else DatasetRecord(project=project_key)
    record = replace(record.with_current(version), project=project_key)
    return state.with_resource(address("dataset", key), record)


def change_version(state: State, key: str, remote_id: int, **fields: Any) -> State:
    """Replace fields of the version `remote_id` of dataset `key` (usually the current one)."""
    record = state.datasets.get(key)
    if record is None:
        raise StepFailed(f"{address('dataset', key)} is not in state")
    versions = tuple(replace(v, **fields) if v.remote_id == remote_id else v for v in record.versions)
    return state.with_resource(address("dataset", key), replace(record, versions=versions))


def version_by_id(state: State, key: str, remote_id: int) -> DatasetVersion | None:
    record = state.datasets.get(key)
    return next((v for v in record.versions if v.remote_id == remote_id), None) if record else None


def with_image(state: State, key: str, dataset_id: int, sha: str, image: ImageRecord) -> State:
    version = version_by_id(state, key, dataset_id)
    if version is None:
        raise StepFailed(f"{address('dataset', key)} has no version {dataset_id} in state")
    return change_version(state, key, dataset_id, images={**version.images, sha: image})


def without_image(state: State, key: str, dataset_id: int, sha: str | None, remote_id: int | None = None) -> State:
    """Forget the image keyed `sha`, and any record of image `remote_id` (a stray's)."""
    version = version_by_id(state, key, dataset_id)
    if version is None:
        return state
    images = {s: r for s, r in version.images.items() if s != sha and (remote_id is None or r.remote_id != remote_id)}
    return change_version(state, key, dataset_id, images=images)


def stray_remote_id(address: str, version: DatasetVersion, args: DeleteImageArgs) -> int:
    """The remote id of the stray image a DELETE_IMAGE step (without sha256) deletes from
    `version`. `remote_id` is its id in version `dataset_remote_id`; when `version` is a clone
    of that one (made earlier in the same change), the stray is the clone's copy: among the
    clone's strays (stray-keyed records, see journal._content_keyed) of the same image
    name, in id order, the one at `copy_index`."""
    planned_on = args.dataset_remote_id
    if planned_on is None or planned_on == version.remote_id:
        return int(args.remote_id)  # type: ignore[arg-type]   # a stray step always names it
    name = args.image_name
    copies = sorted(r.remote_id for key, r in version.images.items()
                    if not is_content_key(key) and r.image_name == name)
    index = args.copy_index
    if index >= len(copies):
        raise StepFailed(f"{address}: the new version {version.remote_id} holds no copy of stray image "
                         f"{name or args.remote_id!r} to leave out (re-plan: it is removed from the draft)")
    return copies[index]


def refresh_captions(state: State, key: str, dataset_id: int, remote_images: Iterable[Mapping[str, Any]]) -> State:
    """Re-record captions of the images of a version from the API's image list."""
    version = version_by_id(state, key, dataset_id)
    if version is None:
        return state
    by_id = {int(img["id"]): img for img in remote_images}
    images = {sha: (replace(rec, caption=by_id[rec.remote_id].get("caption"),
                            caption_source=by_id[rec.remote_id].get("caption_source") or rec.caption_source)
                    if rec.remote_id in by_id else rec)
              for sha, rec in version.images.items()}
    return change_version(state, key, dataset_id, images=images)


def without_dataset_version(state: State, key: str, remote_id: int) -> State:
    record = state.datasets.get(key)
    if record is None:
        return state
    versions = tuple(v for v in record.versions if v.remote_id != remote_id)
    if not versions:
        return state.with_resource(address("dataset", key), None)
    return state.with_resource(address("dataset", key), replace(record, versions=versions))


def map_images_to_content(remote_images: Iterable[Mapping[str, Any]], known: Mapping[str, str],
                          known_shas: Iterable[str]) -> dict[str, ImageRecord]:
    """Key a remote dataset's images by full sha256 for state (identity.match_images: exact
    `known` image names first, then the hash prefix in the name against `known_shas`). An
    image that matches nothing, or a content already taken, is a stray, recorded under
    `identity.stray_key(<remote id>)`: the planner sees it and removes it."""
    remote_images = list(remote_images)
    matched = match_images(remote_images, names=known, known_shas=known_shas)
    ordered = sorted(remote_images, key=lambda img: id_order(img.get("id")))
    return {matched[img.get("id")] or stray_key(img["id"]): image_record(img) for img in ordered}


def record_completed_images(state: State, key: str, dataset_id: int, remote_images: Iterable[Mapping[str, Any]],
                            known_shas: Iterable[str]) -> State:
    """Re-record the images of a version just completed, from the API's list: captions of
    the recorded ones, and any image state does not hold (put there outside bria between the
    plan and the completion) keyed by content or as a stray — a completed version is frozen,
    and later plans trust this record instead of re-reading it."""
    remote_images = list(remote_images)
    state = refresh_captions(state, key, dataset_id, remote_images)
    version = version_by_id(state, key, dataset_id)
    if version is None:
        return state
    recorded = {r.remote_id for r in version.images.values()}
    extra = [img for img in remote_images if int(img["id"]) not in recorded]
    if not extra:
        return state
    # A second copy of recorded content is a stray, so only content not yet held can match.
    added = map_images_to_content(extra, {}, [s for s in known_shas if s not in version.images])
    return change_version(state, key, dataset_id, images={**version.images, **added})


def record_model(state: State, key: str, remote: Mapping[str, Any], *, dataset_key: str,
                 training_parameters: Mapping[str, Any], supersede_reason: str,
                 forgotten: int | None = None) -> State:
    """Record a newly created model as current; a previous current model becomes superseded
    (unless it is `forgotten`: gone remotely, so only its history is kept)."""
    old = state.models.get(key)
    superseded: tuple[SupersededModel, ...] = ()
    if old is not None:
        superseded = old.superseded
        if old.remote_id not in (int(remote["id"]), forgotten):
            superseded += (SupersededModel(old.remote_id, old.dataset_remote_id, old.training_version,
                                           old.training_mode, old.status, supersede_reason,
                                           old.generation_prefix),)
    record = ModelRecord(
        remote_id=int(remote["id"]), dataset=dataset_key, dataset_remote_id=int(remote["dataset_id"]),
        name=remote.get("name") or "", description=remote.get("description"),
        training_version=model_training_version(remote),
        training_mode=remote.get("training_mode") or "fully_automated",
        training_parameters=dict(training_parameters), status=remote.get("status") or ModelStatus.CREATED.value,
        generation_prefix=remote.get("generation_prefix") or None, superseded=superseded)
    return state.with_resource(address("model", key), record)


def model_training_version(remote: Mapping[str, Any]) -> str:
    """The model's training_version; generation C's models have none: they train FIBO."""
    if "training_version" not in remote:
        return FIBO_TRAINING_VERSION
    return remote.get("training_version") or "max"


def change_model(state: State, key: str, **fields: Any) -> State:
    return state.with_resource(address("model", key), replace(require_model(state, key), **fields))


def without_model(state: State, key: str, remote_id: int) -> State:
    """Forget model `remote_id` of `key`: the current one (drops the record) or a superseded one."""
    record = state.models.get(key)
    if record is None:
        return state
    if record.remote_id == remote_id:
        return state.with_resource(address("model", key), None)
    kept = tuple(s for s in record.superseded if s.remote_id != remote_id)
    return state.with_resource(address("model", key), replace(record, superseded=kept))
