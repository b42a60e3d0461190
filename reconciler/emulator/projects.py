"""Projects: create, list, get, update, delete (cascading), and their children lists."""

from __future__ import annotations

from typing import Any, Mapping

from reconciler.emulator import dialects
from reconciler.emulator.errors import bad_request, conflict
from reconciler.emulator.resources import busy_models, owned_project, project_json
from reconciler.emulator.routing import Call, Operation, Reply
from reconciler.emulator.validation import one_of, optional_str, reject_unknown, required_str

IP_MEDIUMS = frozenset({"photography", "illustration"})
IP_TYPES = frozenset({"defined_character", "stylized_scene", "other", "object_variants",
                      "multi_object_set", "icons", "character_variants"})
ILLUSTRATION_ONLY_TYPES = frozenset({"object_variants", "multi_object_set", "icons", "character_variants"})
NEEDS_IP_NAME = frozenset({"defined_character"})
NEEDS_IP_DESCRIPTION = frozenset({"defined_character", "object_variants"})
_CREATE_FIELDS = ("project_name", "project_description", "ip_name", "ip_description", "ip_medium", "ip_type")
_UPDATE_FIELDS = ("project_name", "project_description", "ip_name", "ip_description")
_FIXED_FIELDS = ("ip_medium", "ip_type")


def create_project(call: Call) -> Reply:
    body = call.json()
    reject_unknown(body, (*_CREATE_FIELDS, *dialects.project_create_fields(call.config.dialect)))
    values: dict[str, Any] = {"project_name": required_str(body, "project_name")}
    # Generation B: a training_version given at create locks the project to its family.
    values["training_version"] = one_of(body, "training_version", dialects.DATASET_VERSIONS)
    for name in ("project_description", "ip_name", "ip_description"):
        values[name] = optional_str(body, name)
    values["ip_medium"] = one_of(body, "ip_medium", IP_MEDIUMS)
    values["ip_type"] = one_of(body, "ip_type", IP_TYPES)
    if values["ip_medium"] is None or values["ip_type"] is None:
        raise bad_request("ip_medium and ip_type are required")
    if values["ip_type"] in ILLUSTRATION_ONLY_TYPES and values["ip_medium"] != "illustration":
        raise bad_request(f"ip_type {values['ip_type']} requires ip_medium illustration")
    _check_ip_fields(values)
    with call.store.transaction() as db:
        project_id = db.insert("projects", {**values, "org_id": call.org_id,
                                            "created_at": call.now, "updated_at": call.now})
        return Reply(201, project_json(owned_project(db, call.org_id, project_id), call.config.dialect))


def _check_ip_fields(project: Mapping[str, Any]) -> None:
    """ip_name / ip_description are required (as real text, not blanks) for some ip_types."""
    for field, types in (("ip_name", NEEDS_IP_NAME), ("ip_description", NEEDS_IP_DESCRIPTION)):
        if project["ip_type"] in types and not (project[field] or "").strip():
            raise bad_request(f"{field} is required for ip_type {project['ip_type']}")


def list_projects(call: Call) -> Reply:
    with call.store.transaction() as db:
        rows = db.query("SELECT * FROM projects WHERE org_id = ? ORDER BY id", (call.org_id,))
    return Reply(200, [project_json(row, call.config.dialect) for row in rows])


def get_project(call: Call) -> Reply:
    with call.store.transaction() as db:
        return Reply(200, project_json(owned_project(db, call.org_id, call.params["id"]), call.config.dialect))


def update_project(call: Call) -> Reply:
    body = call.json()
    fixed = [name for name in _FIXED_FIELDS if name in body]
    if fixed:
        raise bad_request(f"{', '.join(fixed)} cannot be changed after creation")
    reject_unknown(body, _UPDATE_FIELDS)
    changes: dict[str, Any] = {}
    if "project_name" in body:
        changes["project_name"] = required_str(body, "project_name")
    for name in ("project_description", "ip_name", "ip_description"):
        if name in body:
            changes[name] = optional_str(body, name)
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, call.params["id"])
        _check_ip_fields({**dict(project), **changes})
        db.update("projects", project["id"], {**changes, "updated_at": call.now})
        return Reply(200, project_json(owned_project(db, call.org_id, project["id"]), call.config.dialect))


def delete_project(call: Call) -> Reply:
    """Deletes the project with its datasets, images and models; refused while training."""
    with call.store.transaction() as db:
        project = owned_project(db, call.org_id, call.params["id"])
        if busy_models(db, call.now, "project_id", project["id"]):
            raise conflict("Cannot delete project while models are in training; stop them first")
        db.execute("DELETE FROM images WHERE dataset_id IN (SELECT id FROM datasets WHERE project_id = ?)",
                   (project["id"],))
        db.execute("DELETE FROM datasets WHERE project_id = ?", (project["id"],))
        db.execute("DELETE FROM models WHERE project_id = ?", (project["id"],))
        db.execute("DELETE FROM projects WHERE id = ?", (project["id"],))
    return Reply(204)


OPERATIONS = (
    Operation("POST", "/tailored-gen/projects", create_project),
    Operation("GET", "/tailored-gen/projects", list_projects, mutates=False),
    Operation("GET", "/tailored-gen/projects/{id}", get_project, mutates=False),
    Operation("PUT", "/tailored-gen/projects/{id}", update_project),
    Operation("DELETE", "/tailored-gen/projects/{id}", delete_project),
)
