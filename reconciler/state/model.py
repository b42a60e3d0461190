"""The state format, v2: what bria last applied and observed, per address.

v2 (FIBO datasets) adds a dataset version's `visual_schema` and a dataset's `pinned_schema`;
a v1 document is read as v2 with both null (nothing else changed), and written as v2.

Frozen dataclasses with `to_dict`/`from_dict`; `schemas/state.schema.json` describes the
JSON and `state/README.md` documents it for people. The state never holds the API token.

Shape (JSON):
    {"format_version": 2, "lineage": "<uuid>", "serial": 7,
     "resources": {"project.luna": {"type": "project", ...},
                   "dataset.luna_v1": {"type": "dataset", ...},
                   "model.luna_max": {"type": "model", ...}},
     "journal": [{...pending non-idempotent operation...}]}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from reconciler.model import address, split_address

STATE_FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)   # 1 is migrated on read (see migrate_v1)
# A format-2 snapshot that has changes after it (`<file>.changes`, or rows of
# bria_state_changes; see state/changes.py) is marked 3 until they are folded in: a bria
# that predates changes would read the snapshot alone and miss them, and it refuses a
# format above its own instead. Readers take a 3 as the 2 it is, then replay the changes.
PENDING_CHANGES_FORMAT_VERSION = 3


@dataclass(frozen=True)
class ImageRecord:
    remote_id: int
    image_name: str
    caption: str | None
    caption_source: str          # "manual" | "automatic" | "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id, "image_name": self.image_name,
                "caption": self.caption, "caption_source": self.caption_source}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "ImageRecord":
        return ImageRecord(int(d["remote_id"]), d["image_name"], d.get("caption"),
                           d.get("caption_source") or "unknown")


@dataclass(frozen=True)
class DatasetVersion:
    """One remote dataset. A completed version is frozen; a change makes a new version."""

    remote_id: int
    name: str
    status: str                               # "draft" | "completed"
    caption_prefix: str | None
    images: Mapping[str, ImageRecord] = field(default_factory=dict)   # full sha256 → record
    # FIBO datasets: the visual schema (a JSON string) as the API last returned it.
    visual_schema: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id, "name": self.name, "status": self.status,
                "caption_prefix": self.caption_prefix, "visual_schema": self.visual_schema,
                "images": {sha: r.to_dict() for sha, r in sorted(self.images.items())}}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "DatasetVersion":
        return DatasetVersion(int(d["remote_id"]), d["name"], d["status"], d.get("caption_prefix"),
                              {sha: ImageRecord.from_dict(r) for sha, r in (d.get("images") or {}).items()},
                              d.get("visual_schema"))


@dataclass(frozen=True)
class ProjectRecord:
    remote_id: int
    # The fields last applied: name, description, ip_type, ip_medium, ip_name, ip_description.
    applied: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "project", "remote_id": self.remote_id, "applied": dict(self.applied)}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "ProjectRecord":
        return ProjectRecord(int(d["remote_id"]), dict(d.get("applied") or {}))


@dataclass(frozen=True)
class DatasetRecord:
    project: str                               # project key
    versions: tuple[DatasetVersion, ...] = ()  # oldest first; the last one is current
    # A prefix produced by generate_prefix for `caption_prefix: auto`, pinned so it is never
    # regenerated behind the user's back.
    pinned_prefix: str | None = None
    # A schema produced by generate_visual_schema for `visual_schema: auto`, pinned likewise.
    pinned_schema: str | None = None

    @property
    def current(self) -> DatasetVersion | None:
        return self.versions[-1] if self.versions else None

    def with_current(self, version: DatasetVersion) -> "DatasetRecord":
        """Replace the current version (same remote id) or append a new one."""
        if self.versions and self.versions[-1].remote_id == version.remote_id:
            return replace(self, versions=self.versions[:-1] + (version,))
        return replace(self, versions=self.versions + (version,))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "dataset", "project": self.project, "pinned_prefix": self.pinned_prefix,
                "pinned_schema": self.pinned_schema, "versions": [v.to_dict() for v in self.versions]}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "DatasetRecord":
        return DatasetRecord(d["project"], tuple(DatasetVersion.from_dict(v) for v in d.get("versions") or ()),
                             d.get("pinned_prefix"), d.get("pinned_schema"))


@dataclass(frozen=True)
class SupersededModel:
    remote_id: int
    dataset_remote_id: int
    training_version: str
    training_mode: str
    status: str
    reason: str
    generation_prefix: str | None = None   # last observed (kept so `bria output` can name it)

    def to_dict(self) -> dict[str, Any]:
        d = {"remote_id": self.remote_id, "dataset_remote_id": self.dataset_remote_id,
             "training_version": self.training_version, "training_mode": self.training_mode,
             "status": self.status, "reason": self.reason}
        return d if self.generation_prefix is None else {**d, "generation_prefix": self.generation_prefix}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "SupersededModel":
        return SupersededModel(int(d["remote_id"]), int(d["dataset_remote_id"]), d["training_version"],
                               d["training_mode"], d["status"], d.get("reason") or "", d.get("generation_prefix"))


@dataclass(frozen=True)
class ModelRecord:
    remote_id: int
    dataset: str                   # dataset key
    dataset_remote_id: int         # the dataset version this model was created on
    name: str
    description: str | None
    training_version: str
    training_mode: str
    training_parameters: Mapping[str, Any] = field(default_factory=dict)
    status: str = "Created"        # last observed API status
    generation_prefix: str | None = None
    superseded: tuple[SupersededModel, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "model", "remote_id": self.remote_id, "dataset": self.dataset,
                "dataset_remote_id": self.dataset_remote_id, "name": self.name,
                "description": self.description, "training_version": self.training_version,
                "training_mode": self.training_mode, "training_parameters": dict(self.training_parameters),
                "status": self.status, "generation_prefix": self.generation_prefix,
                "superseded": [s.to_dict() for s in self.superseded]}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "ModelRecord":
        return ModelRecord(int(d["remote_id"]), d["dataset"], int(d["dataset_remote_id"]), d["name"],
                           d.get("description"), d["training_version"], d["training_mode"],
                           dict(d.get("training_parameters") or {}), d.get("status") or "Created",
                           d.get("generation_prefix"),
                           tuple(SupersededModel.from_dict(s) for s in d.get("superseded") or ()))


@dataclass(frozen=True)
class JournalEntry:
    """A non-idempotent call about to be made (create, clone, upload).

    Written to state *before* the call and removed after its result is recorded. A leftover
    entry means the outcome is unknown: the next run looks the object up by name and parent
    and adopts it, so a crash never produces a duplicate.
    """

    id: str
    op: str                        # create_project | create_dataset | clone_dataset | upload_image | create_model | complete_dataset | start_training | delete_model
    address: str
    name: str                      # the name sent (image_name for uploads)
    parent_id: int | None = None   # project id (datasets), dataset id (images, models), None (projects);
                                   # the model itself for complete/start_training/delete_model
    # e.g. {"sha256": ...}, {"source_remote_id": ...}; creates also record the watermark
    # {"seen_max_id", "preexisting"} (planner/journal_match.py)
    detail: Mapping[str, Any] = field(default_factory=dict)
    started_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op, "address": self.address, "name": self.name,
                "parent_id": self.parent_id, "detail": dict(self.detail), "started_at": self.started_at}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "JournalEntry":
        return JournalEntry(d["id"], d["op"], d["address"], d["name"], d.get("parent_id"),
                            dict(d.get("detail") or {}), d.get("started_at") or "")


@dataclass(frozen=True)
class State:
    lineage: str
    serial: int = 0
    projects: Mapping[str, ProjectRecord] = field(default_factory=dict)   # by key
    datasets: Mapping[str, DatasetRecord] = field(default_factory=dict)
    models: Mapping[str, ModelRecord] = field(default_factory=dict)
    journal: tuple[JournalEntry, ...] = ()
    format_version: int = STATE_FORMAT_VERSION
    # The API endpoint the state was made against; None for states written before it was
    # recorded. Never anything token-derived (see planner/account_check.py).
    endpoint: str | None = None
    # When statuses were last read from the API into this state (ISO 8601 UTC), or None.
    refreshed_at: str | None = None

    @staticmethod
    def empty(lineage: str | None = None) -> "State":
        return State(lineage=lineage or str(uuid.uuid4()))

    def addresses(self) -> list[str]:
        return ([address("project", k) for k in sorted(self.projects)]
                + [address("dataset", k) for k in sorted(self.datasets)]
                + [address("model", k) for k in sorted(self.models)])

    def get(self, addr: str) -> ProjectRecord | DatasetRecord | ModelRecord | None:
        kind, key = split_address(addr)
        return {"project": self.projects, "dataset": self.datasets, "model": self.models}[kind].get(key)

    def with_resource(self, addr: str, record: ProjectRecord | DatasetRecord | ModelRecord | None) -> "State":
        """A new State with `addr` set to `record` (None removes it)."""
        kind, key = split_address(addr)
        attr = {"project": "projects", "dataset": "datasets", "model": "models"}[kind]
        table = dict(getattr(self, attr))
        if record is None:
            table.pop(key, None)
        else:
            table[key] = record
        return replace(self, **{attr: table})

    def with_journal_entry(self, entry: JournalEntry) -> "State":
        return replace(self, journal=self.journal + (entry,))

    def without_journal_entry(self, entry_id: str) -> "State":
        return replace(self, journal=tuple(e for e in self.journal if e.id != entry_id))

    def to_dict(self) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        for k in sorted(self.projects):
            resources[address("project", k)] = self.projects[k].to_dict()
        for k in sorted(self.datasets):
            resources[address("dataset", k)] = self.datasets[k].to_dict()
        for k in sorted(self.models):
            resources[address("model", k)] = self.models[k].to_dict()
        document = {"format_version": self.format_version, "lineage": self.lineage, "serial": self.serial,
                    "resources": resources, "journal": [e.to_dict() for e in self.journal]}
        if self.endpoint is not None:
            document["endpoint"] = self.endpoint
        if self.refreshed_at is not None:
            document["refreshed_at"] = self.refreshed_at
        return document

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "State":
        """A state document of any readable format version, as the current version."""
        if d.get("format_version") not in READABLE_FORMAT_VERSIONS:
            raise ValueError(f"unsupported state format_version {d.get('format_version')!r} "
                             f"(this bria reads {', '.join(map(str, READABLE_FORMAT_VERSIONS))})")
        if d.get("format_version") == 1:
            d = migrate_v1(d)
        projects: dict[str, ProjectRecord] = {}
        datasets: dict[str, DatasetRecord] = {}
        models: dict[str, ModelRecord] = {}
        for addr, r in (d.get("resources") or {}).items():
            kind, key = split_address(addr)
            if kind == "project":
                projects[key] = ProjectRecord.from_dict(r)
            elif kind == "dataset":
                datasets[key] = DatasetRecord.from_dict(r)
            else:
                models[key] = ModelRecord.from_dict(r)
        return State(lineage=d["lineage"], serial=int(d["serial"]), projects=projects, datasets=datasets,
                     models=models, journal=tuple(JournalEntry.from_dict(e) for e in d.get("journal") or ()),
                     endpoint=d.get("endpoint") or None, refreshed_at=d.get("refreshed_at"))


def migrate_v1(document: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 state document as v2: every field kept; datasets gain `pinned_schema` and their
    versions `visual_schema`, both null (v1 knew only legacy caption-prefix datasets)."""
    resources: dict[str, Any] = {}
    for addr, record in (document.get("resources") or {}).items():
        if isinstance(record, dict) and record.get("type") == "dataset":
            record = {**record, "pinned_schema": None,
                      "versions": [{**v, "visual_schema": None} for v in record.get("versions") or ()]}
        resources[addr] = record
    return {**document, "format_version": 2, "resources": resources}
