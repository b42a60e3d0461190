"""The arguments of each plan step (`model.Op`): one frozen class per op, with its JSON form.

`to_dict()` is what a saved plan carries under `steps[].args`; `from_dict()` reads it back
(missing optional keys take the defaults below, as earlier bria versions read them). Steps
name remote objects by address, key and content hash, never by ids that exist only after
earlier steps ran — the executor resolves those from the state at run time.

`ARGS_BY_OP` maps each `Op` to its class; `Step` holds an op and its arguments (both are
re-exported by `reconciler.model`). The executor's handlers read attributes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from reconciler.reasons import Reason


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class NoArgs:
    """REGENERATE_ALL_CAPTIONS (waits for completion), COMPLETE_DATASET."""

    def to_dict(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "NoArgs":
        return cls()


@dataclass(frozen=True)
class RemoteIdArgs:
    """DELETE_PROJECT, DELETE_DATASET, DELETE_MODEL, FORGET: the remote object acted on.
    STOP_TRAINING: the model to stop (None = the current model)."""

    remote_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RemoteIdArgs":
        return cls(_opt_int(d.get("remote_id")))


@dataclass(frozen=True)
class ProjectFieldsArgs:
    """CREATE_PROJECT (API body), UPDATE_PROJECT (only the changed, updatable fields)."""

    fields: Mapping[str, Any] = field(default_factory=dict)     # API field names

    def to_dict(self) -> dict[str, Any]:
        return {"fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProjectFieldsArgs":
        return cls(dict(d.get("fields") or {}))


@dataclass(frozen=True)
class CreateDatasetArgs:
    name: str = ""
    project: str | None = None          # the project's key (None: from the manifest or state)
    family: str | None = None           # "fibo" for a FIBO dataset; None (absent in JSON) = legacy

    def to_dict(self) -> dict[str, Any]:
        family = {"family": self.family} if self.family else {}
        return {"name": self.name, "project": self.project, **family}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CreateDatasetArgs":
        return cls(str(d.get("name") or ""), d.get("project"), d.get("family") or None)


@dataclass(frozen=True)
class CloneDatasetArgs:
    source_remote_id: int = 0           # the completed version cloned
    name: str | None = None             # None: "Copy of <source name>"

    def to_dict(self) -> dict[str, Any]:
        return {"source_remote_id": self.source_remote_id, "name": self.name}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CloneDatasetArgs":
        return cls(int(d.get("source_remote_id") or 0), d.get("name"))


@dataclass(frozen=True)
class UpdateDatasetArgs:
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "UpdateDatasetArgs":
        return cls(str(d.get("name") or ""))


@dataclass(frozen=True)
class GeneratePrefixArgs:
    shas: tuple[str, ...] = ()          # ≤6, chosen deterministically (planner.content)
    rel_paths: tuple[str, ...] = ()     # the same images, same order (for people)

    def to_dict(self) -> dict[str, Any]:
        return {"shas": list(self.shas), "rel_paths": list(self.rel_paths)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GeneratePrefixArgs":
        return cls(tuple(d.get("shas") or ()), tuple(d.get("rel_paths") or ()))


@dataclass(frozen=True)
class SetCaptionPrefixArgs:
    prefix: str | None = None           # None: the pinned, generated one

    def to_dict(self) -> dict[str, Any]:
        return {"prefix": self.prefix}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SetCaptionPrefixArgs":
        return cls(d.get("prefix"))


@dataclass(frozen=True)
class SetVisualSchemaArgs:
    schema: str | None = None           # JSON text; None: the pinned, generated one

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SetVisualSchemaArgs":
        return cls(d.get("schema"))


@dataclass(frozen=True)
class DeleteImageArgs:
    """bria's own image by `sha256` (with its `image_name`), or — `sha256` None — a stray
    (planner.content): `remote_id` in version `dataset_remote_id`; on a clone of that
    version made earlier in the change, the `copy_index`-th (id order) of the clone's
    strays named `image_name`."""

    image_name: str = ""
    sha256: str | None = None
    remote_id: int | None = None
    dataset_remote_id: int | None = None
    copy_index: int = 0

    @property
    def is_stray(self) -> bool:
        return not self.sha256

    def to_dict(self) -> dict[str, Any]:
        if not self.is_stray:
            return {"sha256": self.sha256, "image_name": self.image_name}
        return {"remote_id": self.remote_id, "dataset_remote_id": self.dataset_remote_id,
                "image_name": self.image_name, "copy_index": self.copy_index}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DeleteImageArgs":
        return cls(str(d.get("image_name") or ""), d.get("sha256") or None, d.get("remote_id"),
                   _opt_int(d.get("dataset_remote_id")), int(d.get("copy_index") or 0))


@dataclass(frozen=True)
class UploadImageArgs:
    sha256: str = ""
    rel_path: str = ""                  # relative to the manifest's folder
    image_name: str = ""                # content_identity.image_name
    increase_resolution: bool = True
    caption: str | None = None          # manual caption set right after the upload (None: automatic)

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "rel_path": self.rel_path, "image_name": self.image_name,
                "increase_resolution": self.increase_resolution, "caption": self.caption}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "UploadImageArgs":
        return cls(str(d.get("sha256") or ""), str(d.get("rel_path") or ""), str(d.get("image_name") or ""),
                   bool(d.get("increase_resolution", True)), d.get("caption"))


@dataclass(frozen=True)
class SetCaptionArgs:
    sha256: str = ""
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "caption": self.caption}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SetCaptionArgs":
        return cls(str(d.get("sha256") or ""), str(d.get("caption") or ""))


@dataclass(frozen=True)
class RegenerateCaptionArgs:
    sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RegenerateCaptionArgs":
        return cls(str(d.get("sha256") or ""))


@dataclass(frozen=True)
class CreateModelArgs:
    name: str = ""
    description: str | None = None
    dataset: str | None = None          # the dataset's key (None: from the manifest or state)
    training_version: str = "max"
    training_mode: str = "fully_automated"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "dataset": self.dataset,
                "training_version": self.training_version, "training_mode": self.training_mode}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CreateModelArgs":
        return cls(str(d.get("name") or ""), d.get("description"), d.get("dataset"),
                   d.get("training_version") or "max", d.get("training_mode") or "fully_automated")


@dataclass(frozen=True)
class UpdateModelArgs:
    fields: Mapping[str, Any] = field(default_factory=dict)     # name / description only

    UPDATABLE: ClassVar[tuple[str, ...]] = ("name", "description")

    def to_dict(self) -> dict[str, Any]:
        return {"fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "UpdateModelArgs":
        return cls(dict(d.get("fields") or {}))


@dataclass(frozen=True)
class StartTrainingArgs:
    parameters: Mapping[str, Any] = field(default_factory=dict)  # expert mode only, else {}

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": dict(self.parameters)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "StartTrainingArgs":
        return cls(dict(d.get("parameters") or {}))


@dataclass(frozen=True)
class SupersedeModelArgs:
    """State only: the current model moves to history, with why (recorded in state)."""

    remote_id: int | None = None
    reason: Reason | None = None        # recorded as the superseded model's reason

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id, "reason": None if self.reason is None else self.reason.value}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SupersedeModelArgs":
        reason = d.get("reason")
        return cls(_opt_int(d.get("remote_id")), None if reason is None else Reason(reason))


@dataclass(frozen=True)
class MoveAddressArgs:
    """State only: rename a record (a `moved` block). JSON keys `from` and `to` (addresses)."""

    from_address: str = ""
    to_address: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_address, "to": self.to_address}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MoveAddressArgs":
        return cls(str(d.get("from") or ""), str(d.get("to") or ""))


# One class per op; ops with the same shape share a base.
class CreateProjectArgs(ProjectFieldsArgs): pass
class UpdateProjectArgs(ProjectFieldsArgs): pass
class DeleteProjectArgs(RemoteIdArgs): pass
class DeleteDatasetArgs(RemoteIdArgs): pass
class DeleteModelArgs(RemoteIdArgs): pass
class StopTrainingArgs(RemoteIdArgs): pass
class ForgetArgs(RemoteIdArgs): pass          # drop a record whose object is gone
class ImportResourceArgs(RemoteIdArgs): pass  # read the object and record it (an `import` block)
class RemoveFromStateArgs(RemoteIdArgs): pass  # drop the whole record, remote untouched (`removed`, destroy: false)
class RegenerateAllCaptionsArgs(NoArgs): pass
class CompleteDatasetArgs(NoArgs): pass
class GenerateVisualSchemaArgs(GeneratePrefixArgs): pass   # 5–10 images (planner.content), same JSON


StepArgs = (NoArgs | RemoteIdArgs | ProjectFieldsArgs | CreateDatasetArgs | CloneDatasetArgs | UpdateDatasetArgs
            | GeneratePrefixArgs | SetCaptionPrefixArgs | SetVisualSchemaArgs | DeleteImageArgs | UploadImageArgs | SetCaptionArgs
            | RegenerateCaptionArgs | CreateModelArgs | UpdateModelArgs | StartTrainingArgs | SupersedeModelArgs
            | MoveAddressArgs)


class Op(str, enum.Enum):
    """One API operation (or state-only bookkeeping) the executor runs for a change.

    Steps refer to remote objects by address and content hash, never by ids that only exist
    after earlier steps ran; the executor resolves them from the state at run time. That is
    what lets a saved plan be applied later and a crashed apply be resumed. Each op's
    arguments are one class of this module (ARGS_BY_OP below).
    """

    # projects
    CREATE_PROJECT = "create_project"
    UPDATE_PROJECT = "update_project"
    DELETE_PROJECT = "delete_project"
    # datasets
    CREATE_DATASET = "create_dataset"
    CLONE_DATASET = "clone_dataset"
    UPDATE_DATASET = "update_dataset"
    GENERATE_PREFIX = "generate_prefix"
    SET_CAPTION_PREFIX = "set_caption_prefix"
    GENERATE_VISUAL_SCHEMA = "generate_visual_schema"     # FIBO datasets
    SET_VISUAL_SCHEMA = "set_visual_schema"
    REGENERATE_ALL_CAPTIONS = "regenerate_all_captions"   # waits for completion
    DELETE_IMAGE = "delete_image"
    UPLOAD_IMAGE = "upload_image"
    SET_CAPTION = "set_caption"
    REGENERATE_CAPTION = "regenerate_caption"
    COMPLETE_DATASET = "complete_dataset"
    DELETE_DATASET = "delete_dataset"
    # models
    CREATE_MODEL = "create_model"
    UPDATE_MODEL = "update_model"
    START_TRAINING = "start_training"
    STOP_TRAINING = "stop_training"
    DELETE_MODEL = "delete_model"
    SUPERSEDE_MODEL = "supersede_model"        # state only: move the current model to history
    # state only
    FORGET = "forget"                          # drop a record whose object is gone
    MOVE_ADDRESS = "move_address"              # rename a record (a `moved` block)
    IMPORT_RESOURCE = "import_resource"        # read the object and record it (an `import` block)
    REMOVE_FROM_STATE = "remove_from_state"    # drop the whole record, remote untouched (`removed`, destroy: false)


ARGS_BY_OP: dict[Op, type[StepArgs]] = {
    Op.CREATE_PROJECT: CreateProjectArgs, Op.UPDATE_PROJECT: UpdateProjectArgs,
    Op.DELETE_PROJECT: DeleteProjectArgs,
    Op.CREATE_DATASET: CreateDatasetArgs, Op.CLONE_DATASET: CloneDatasetArgs,
    Op.UPDATE_DATASET: UpdateDatasetArgs, Op.GENERATE_PREFIX: GeneratePrefixArgs,
    Op.SET_CAPTION_PREFIX: SetCaptionPrefixArgs, Op.GENERATE_VISUAL_SCHEMA: GenerateVisualSchemaArgs,
    Op.SET_VISUAL_SCHEMA: SetVisualSchemaArgs, Op.REGENERATE_ALL_CAPTIONS: RegenerateAllCaptionsArgs,
    Op.DELETE_IMAGE: DeleteImageArgs, Op.UPLOAD_IMAGE: UploadImageArgs,
    Op.SET_CAPTION: SetCaptionArgs, Op.REGENERATE_CAPTION: RegenerateCaptionArgs,
    Op.COMPLETE_DATASET: CompleteDatasetArgs, Op.DELETE_DATASET: DeleteDatasetArgs,
    Op.CREATE_MODEL: CreateModelArgs, Op.UPDATE_MODEL: UpdateModelArgs,
    Op.START_TRAINING: StartTrainingArgs, Op.STOP_TRAINING: StopTrainingArgs,
    Op.DELETE_MODEL: DeleteModelArgs, Op.SUPERSEDE_MODEL: SupersedeModelArgs,
    Op.FORGET: ForgetArgs, Op.MOVE_ADDRESS: MoveAddressArgs, Op.IMPORT_RESOURCE: ImportResourceArgs,
    Op.REMOVE_FROM_STATE: RemoveFromStateArgs,
}


@dataclass(frozen=True)
class Step:
    """One op and its typed arguments. Built with a Mapping (the JSON form, e.g. from a
    saved plan or a test) or nothing, the arguments are read through the op's class."""

    op: Op
    args: StepArgs = None  # type: ignore[assignment]   # None → the op's defaults

    def __post_init__(self) -> None:
        cls = ARGS_BY_OP[self.op]
        given: object = self.args
        if given is None or isinstance(given, Mapping):
            object.__setattr__(self, "args", cls.from_dict(given or {}))
        elif type(given) is not cls:
            raise TypeError(f"{self.op.value} takes {cls.__name__}, not {type(given).__name__}")

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op.value, "args": self.args.to_dict()}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Step":
        return Step(Op(d["op"]), ARGS_BY_OP[Op(d["op"])].from_dict(d.get("args") or {}))
