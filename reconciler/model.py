"""Core data types: addresses, manifest specs, the live view, and the plan.

Everything here is frozen data with no I/O. Mappings held inside frozen dataclasses are
treated as immutable by convention: code builds new dicts and uses `dataclasses.replace`
rather than mutating them.

Addresses name resources the way users write them: `project.<key>`, `dataset.<key>`,
`model.<key>`, where <key> is the logical key in the manifest.

The persisted state types live in `reconciler.state.model` (they are the state format).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from reconciler import identity
from reconciler.diagnostics import SourceRange
from reconciler.reasons import Reason
from reconciler.stepargs import ARGS_BY_OP, Op, Step, StepArgs  # noqa: F401  (re-exported)

PLAN_FORMAT_VERSION = 1

# --- addresses -------------------------------------------------------------------------

KINDS = ("project", "dataset", "model")



def address(kind: str, key: str) -> str:
    return f"{kind}.{key}"


def split_address(addr: str) -> tuple[str, str]:
    """`"dataset.luna_v1"` → `("dataset", "luna_v1")`; raises ValueError when malformed."""
    kind, sep, key = addr.partition(".")
    if not sep or kind not in KINDS or not key:
        raise ValueError(f"not a resource address: {addr!r} (expected project.KEY, dataset.KEY or model.KEY)")
    return kind, key


# --- manifest specs (what the user wants) ----------------------------------------------

AUTO_PREFIX = "auto"
AUTO_SCHEMA = "auto"            # visual_schema: auto — generated once from the dataset's images
LEGACY_FAMILY, FIBO_FAMILY = "legacy", "fibo"
FIBO_TRAINING_VERSION = "fibo"  # what a model on a FIBO dataset trains (the API may not name it)


@dataclass(frozen=True)
class ImageSpec:
    """One image of a dataset, identified by the sha256 of its bytes (not its path)."""

    sha256: str
    path: Path                 # absolute path on disk
    rel_path: str              # path relative to the manifest's folder, posix style
    caption: str | None        # manual caption (inline or sidecar .txt/.json; FIBO: compact JSON text);
                               # None = API's automatic caption
    caption_origin: str | None  # "inline" | "sidecar" | None
    width: int
    height: int
    format: str                # "JPEG" | "PNG" | "WEBP"
    size: int                  # bytes
    source: SourceRange | None = None

    @property
    def image_name(self) -> str:
        """The name sent to the API (see reconciler.identity)."""
        return identity.image_name(self.sha256, self.path.name)


@dataclass(frozen=True)
class ProjectSpec:
    key: str
    name: str
    ip_type: str
    ip_medium: str
    description: str | None = None
    ip_name: str | None = None
    ip_description: str | None = None
    allow_duplicate_name: bool = False   # create even when an untracked same-name object exists
    source: SourceRange | None = None

    @property
    def address(self) -> str:
        return address("project", self.key)


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    project: str               # project key
    name: str
    images: tuple[ImageSpec, ...]
    # None: keep the API's default prefix; "auto": generate_prefix once, pinned in state;
    # anything else: that literal prefix.
    caption_prefix: str | None = None
    increase_resolution: bool = True
    complete: bool = True
    allow_duplicate_name: bool = False   # create even when an untracked same-name object exists
    source: SourceRange | None = None
    # FIBO datasets only: "auto" (generate once, pinned in state) or the schema as compact
    # JSON text (from a .json file or an inline mapping). None = a legacy dataset.
    visual_schema: str | None = None

    @property
    def address(self) -> str:
        return address("dataset", self.key)

    @property
    def family(self) -> str:
        return FIBO_FAMILY if self.visual_schema is not None else LEGACY_FAMILY


@dataclass(frozen=True)
class SamplesSpec:
    """A model's `samples:` block (see reconciler.samples_spec): what `bria sample` generates.
    `options`: the other generation fields, by their manifest names."""

    prompts: tuple[str, ...]
    seeds: tuple[int, ...] = (1,)
    count: int = 1
    aspect_ratio: str = "1:1"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    key: str
    dataset: str               # dataset key
    name: str
    training_version: str = "max"
    training_mode: str = "fully_automated"
    description: str | None = None
    # Expert-mode parameters sent to start_training (learning_rate, total_training_steps,
    # rank, lr_scheduler, checkpoint_interval, lr_warmup_steps). Empty for fully_automated.
    training_parameters: Mapping[str, Any] = field(default_factory=dict)
    train: bool = True
    allow_duplicate_name: bool = False   # create even when an untracked same-name object exists
    source: SourceRange | None = None
    samples: SamplesSpec | None = None     # not planned: generation is not a managed resource

    @property
    def address(self) -> str:
        return address("model", self.key)


@dataclass(frozen=True)
class StateConfig:
    backend: str = "local"          # "local" | "postgres"
    path: Path | None = None        # local: the state file (absolute)
    path_source: SourceRange | None = None   # where `state.path` is written (None: the default path)
    dsn_env: str = "BRIA_PG_DSN"    # postgres: name of the env var holding the DSN
    workspace: str = "default"      # postgres: workspace name


@dataclass(frozen=True)
class EmulatorOptions:
    """Options for `api.endpoint: emulator` (the embedded in-process emulator)."""

    training_seconds: float = 120.0
    dialect: str | None = None      # None = api.dialect, else legacy


@dataclass(frozen=True)
class MovedBlock:
    """`moved: [{from, to}]`: the state record at `from` is now `to` (state only)."""

    from_address: str
    to_address: str
    source: SourceRange | None = None


@dataclass(frozen=True)
class RemovedBlock:
    """`removed: [{address, destroy}]`: deliberately out of the manifest; destroy or only forget."""

    address: str
    destroy: bool
    source: SourceRange | None = None


@dataclass(frozen=True)
class ImportBlock:
    """`import: [{to, id}]`: adopt the existing remote object `remote_id` as `to`."""

    to_address: str
    remote_id: int
    source: SourceRange | None = None


@dataclass(frozen=True)
class Manifest:
    path: Path                      # absolute path of the manifest file
    root: Path                      # the manifest's folder; image paths must stay inside it
    api_endpoint: str | None        # None = default (env BRIA_API_URL or production)
    state: StateConfig
    projects: Mapping[str, ProjectSpec]
    datasets: Mapping[str, DatasetSpec]
    models: Mapping[str, ModelSpec]
    digest: str                     # sha256 over the canonical desired state (incl. image hashes)
    emulator: EmulatorOptions = field(default_factory=EmulatorOptions)
    version: int = 1
    api_dialect: str | None = None  # legacy | mixed | fibo; None = detect (env BRIA_API_DIALECT overrides)    # How later versions are named (planner/naming.py): {name} and {version}.
    name_pattern: str = "{name} v{version}"

    moved: tuple[MovedBlock, ...] = ()
    removed: tuple[RemovedBlock, ...] = ()
    imports: tuple[ImportBlock, ...] = ()

    def addresses(self) -> list[str]:
        return ([p.address for p in self.projects.values()]
                + [d.address for d in self.datasets.values()]
                + [m.address for m in self.models.values()])


# --- live view (what the API says now) --------------------------------------------------


@dataclass(frozen=True)
class LiveView:
    """A read-only snapshot of the API, keyed by remote id.

    Objects are the API's JSON as returned. `datasets[id]["images"]` is present only for
    datasets that refresh fetched individually (list responses carry no images).
    """

    projects: Mapping[int, Mapping[str, Any]]
    datasets: Mapping[int, Mapping[str, Any]]
    models: Mapping[int, Mapping[str, Any]]
    requests: int = 0               # how many API reads the refresh took
    # When the project list was answered (time.monotonic()), for the journal's project
    # watermark (executor/account.py: the first project create reuses a list this fresh).
    projects_listed: float | None = None


# --- the plan -----------------------------------------------------------------------------


class Action(str, enum.Enum):
    """What happens to a resource. Values are what the JSON plan carries."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    CLONE = "clone"           # dataset: a new draft version cloned from the completed one
    TRAIN = "train"
    STOP = "stop"
    MOVE = "move"             # state only: the record is now kept under another address
    IMPORT = "import"         # state only: an existing remote object is adopted
    FORGET = "forget"         # state only: no longer managed; the remote object is left alone
    NOOP = "no-op"


@dataclass(frozen=True)
class ImageChanges:
    """Image-level detail of a dataset change, for people (the steps are authoritative)."""

    upload: tuple[str, ...] = ()         # rel paths
    delete: tuple[str, ...] = ()         # rel paths or sha256 prefixes (when the file is gone)
    caption: tuple[str, ...] = ()        # rel paths whose manual caption is set/changed
    regenerate: tuple[str, ...] = ()     # rel paths whose caption goes back to automatic
    # rel path → {"old": caption before, "new": caption after (None = automatic)}, for the
    # paths of `caption` and `regenerate`: a reviewer sees what each caption becomes.
    caption_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.upload or self.delete or self.caption or self.regenerate)

    def to_dict(self) -> dict[str, Any]:
        return {"upload": list(self.upload), "delete": list(self.delete),
                "caption": list(self.caption), "regenerate": list(self.regenerate),
                "caption_values": {p: dict(v) for p, v in self.caption_values.items()}}

    @staticmethod
    def from_dict(d: Mapping[str, Any] | None) -> "ImageChanges | None":
        if d is None:
            return None
        lists = (tuple(d.get(k) or ()) for k in ("upload", "delete", "caption", "regenerate"))
        return ImageChanges(*lists, caption_values=dict(d.get("caption_values") or {}))


@dataclass(frozen=True)
class Change:
    address: str
    actions: tuple[Action, ...]
    reason: Reason                               # for people only; the executor never reads it
    steps: tuple[Step, ...]
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    depends_on: tuple[str, ...] = ()             # addresses whose changes must finish first
    images: ImageChanges | None = None
    # Destroys something valuable (a trained model, a project): needs --allow-destroy.
    protected: bool = False
    # protected and not allowed: the plan cannot be applied (exit 6) until allowed.
    refused: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", Reason(self.reason))

    @property
    def kind(self) -> str:
        return split_address(self.address)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "actions": [a.value for a in self.actions],
            "reason": self.reason.value,
            "before": _jsonable(self.before),
            "after": _jsonable(self.after),
            "depends_on": list(self.depends_on),
            "images": self.images.to_dict() if self.images else None,
            "protected": self.protected,
            "refused": self.refused,
            "steps": [s.to_dict() for s in self.steps],
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Change":
        return Change(
            address=d["address"],
            actions=tuple(Action(a) for a in d["actions"]),
            reason=Reason(d["reason"]),
            steps=tuple(Step.from_dict(s) for s in d.get("steps") or ()),
            before=d.get("before"),
            after=d.get("after"),
            depends_on=tuple(d.get("depends_on") or ()),
            images=ImageChanges.from_dict(d.get("images")),
            protected=bool(d.get("protected")),
            refused=bool(d.get("refused")),
        )


@dataclass(frozen=True)
class Drift:
    """A difference between what state recorded and what the API holds now, made outside bria."""

    address: str
    kind: str                                    # "deleted" | "changed"
    remote_id: int | None
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name → {"expected","actual"}

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "kind": self.kind, "remote_id": self.remote_id,
                "fields": _jsonable(self.fields)}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Drift":
        return Drift(d["address"], d["kind"], d.get("remote_id"), d.get("fields") or {})


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]                  # in execution order
    drift: tuple[Drift, ...] = ()
    notes: tuple[str, ...] = ()                  # informational lines (training progress, pending journal)
    # What the plan was computed from; apply refuses a saved plan when these moved.
    state_lineage: str | None = None
    state_serial: int = 0
    manifest_digest: str = ""
    manifest_path: str = ""
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    # Untracked look-alikes (planner/lookalikes.py): objects in the account with the name and
    # parent of something this plan creates; each {"address", "kind", "name", "remote_id",
    # "import_command", "allowed"}. apply refuses while any is not allowed.
    duplicates: tuple[Mapping[str, Any], ...] = ()
    format_version: int = PLAN_FORMAT_VERSION

    @property
    def blocking_duplicates(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(d for d in self.duplicates if not d.get("allowed"))

    @property
    def has_changes(self) -> bool:
        return any(c.actions != (Action.NOOP,) for c in self.changes)

    @property
    def refused(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.refused)

    def summary(self) -> dict[str, int]:
        add = change = destroy = uploads = trains = 0
        for c in self.changes:
            acts = set(c.actions)
            # Terraform's counting: a replacement is one add and one destroy; a change that
            # ends in a delete (stop, then delete) is a destroy, not also a change.
            if Action.CREATE in acts or Action.CLONE in acts:
                add += 1
            elif Action.DELETE not in acts and acts & {Action.UPDATE, Action.TRAIN, Action.STOP}:
                change += 1
            if Action.DELETE in acts:
                destroy += 1
            if Action.TRAIN in acts:
                trains += 1
            uploads += sum(1 for s in c.steps if s.op is Op.UPLOAD_IMAGE)
        # move/import/forget: state-only changes (moved, import and removed blocks).
        state_only = {name: sum(1 for c in self.changes if action in c.actions)
                      for name, action in (("move", Action.MOVE), ("import", Action.IMPORT),
                                           ("forget", Action.FORGET))}
        return {"add": add, "change": change, "destroy": destroy,
                "images_to_upload": uploads, "models_to_train": trains, **state_only}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "state_lineage": self.state_lineage,
            "state_serial": self.state_serial,
            "manifest_digest": self.manifest_digest,
            "manifest_path": self.manifest_path,
            "targets": list(self.targets),
            "excludes": list(self.excludes),
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
            "drift": [d.to_dict() for d in self.drift],
            "notes": list(self.notes),
            # Only when there are some: plans without look-alikes keep their exact old form.
            **({"duplicates": [dict(d) for d in self.duplicates]} if self.duplicates else {}),
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Plan":
        # A plan of another format cannot be trusted to mean what this bria would do with it.
        if not isinstance(d, Mapping):
            raise ValueError("a plan is a JSON object")
        if d.get("format_version") != PLAN_FORMAT_VERSION:
            raise ValueError(f"unsupported plan format_version {d.get('format_version')!r} "
                             f"(this bria reads {PLAN_FORMAT_VERSION})")
        return Plan(
            changes=tuple(Change.from_dict(c) for c in d["changes"]),
            drift=tuple(Drift.from_dict(x) for x in d.get("drift") or ()),
            notes=tuple(d.get("notes") or ()),
            state_lineage=d.get("state_lineage"),
            state_serial=int(d.get("state_serial") or 0),
            manifest_digest=d.get("manifest_digest") or "",
            manifest_path=d.get("manifest_path") or "",
            targets=tuple(d.get("targets") or ()),
            excludes=tuple(d.get("excludes") or ()),
            duplicates=tuple(dict(x) for x in d.get("duplicates") or ()),
            format_version=int(d.get("format_version") or PLAN_FORMAT_VERSION),
        )


def _jsonable(value: Any) -> Any:
    """Plain JSON types (dicts, lists) from mappings/tuples, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return value
