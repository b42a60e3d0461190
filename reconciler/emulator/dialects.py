"""The three generations of Bria's documented API, as dialects the emulator can speak.

- `legacy` (generation A): datasets carry a `caption_prefix`; `generate_prefix`; models
  have a `training_version` (light, max, bria-2.3, bria-3.2); one image completes a dataset.
- `mixed` (generation B): both families in one account. `training_version` on project
  create (locks it), on dataset create (`max` by default; `fibo` datasets use a
  `visual_schema`, legacy ones a `caption_prefix`) and on model create (a `fibo` model only
  on a `fibo` dataset). A project is locked to the family of its first dataset.
- `fibo` (generation C, Bria's newest OpenAPI bundle): visual schemas only; no
  `caption_prefix`, `generate_prefix` or `training_version`; completing a dataset needs at
  least 5 images and a visual schema; expert models have checkpoints.

This module holds the rules that differ by dialect, so each resource module asks it rather
than testing dialect names itself.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from reconciler.emulator import captions, visual_schemas
from reconciler.emulator.errors import bad_request

LEGACY, MIXED, FIBO = "legacy", "mixed", "fibo"
LEGACY_FAMILY, FIBO_FAMILY = "legacy", "fibo"
PENDING = "pending"   # caption_source of an image uploaded before its dataset had a visual schema

# Generation B spells dataset versions `3.2`/`2.3` and model versions `bria-3.2`/`bria-2.3`.
DATASET_VERSIONS = ("max", "light", "3.2", "2.3", "fibo")
DEFAULT_DATASET_VERSION = "max"         # generation B: "defaults to max (will change to fibo)"
LEGACY_MODEL_VERSIONS = ("light", "max", "bria-2.3", "bria-3.2")
MIXED_MODEL_VERSIONS = (*LEGACY_MODEL_VERSIONS, "fibo")
DEFAULT_MODEL_VERSION = "max"

MIN_IMAGES_TO_COMPLETE = {LEGACY_FAMILY: 1, FIBO_FAMILY: 5}

LEGACY_EXPERT_DEFAULTS: dict[str, Any] = {
    "lr_scheduler": "constant", "learning_rate": 0.0001, "total_training_steps": 1500,
    "rank": 128, "checkpoint_interval": 500, "lr_warmup_steps": 0}
FIBO_EXPERT_DEFAULTS: dict[str, Any] = {
    "lr_scheduler": "constant_with_warmup", "learning_rate": 0.0001, "total_training_steps": 750,
    "rank": 128, "checkpoint_interval": 500, "lr_warmup_steps": 100}

# Operations (method + route template) that exist only in some dialects; the rest exist in all.
_ONLY_IN: dict[str, tuple[str, ...]] = {
    "POST /tailored-gen/generate_prefix": (LEGACY, MIXED),
    "POST /tailored-gen/generate_visual_schema": (MIXED, FIBO),
    "GET /tailored-gen/models/{id}/checkpoints": (MIXED, FIBO),
    "GET /tailored-gen/models/{id}/checkpoints/{step}": (MIXED, FIBO),
    "DELETE /tailored-gen/models/{id}/checkpoints/{step}": (MIXED, FIBO),
}


def serves(dialect: str, operation_name: str) -> bool:
    """Whether the dialect has this endpoint at all (if not, the route is simply absent: 404)."""
    return dialect in _ONLY_IN.get(operation_name, (dialect,))


def version_family(training_version: str | None) -> str:
    return FIBO_FAMILY if training_version == "fibo" else LEGACY_FAMILY


def dataset_family(dialect: str, dataset: Mapping[str, Any]) -> str:
    if dialect == FIBO:
        return FIBO_FAMILY
    if dialect == LEGACY:
        return LEGACY_FAMILY
    return version_family(dataset["training_version"])


def model_family(dialect: str, model: Mapping[str, Any]) -> str:
    if dialect == FIBO:
        return FIBO_FAMILY
    return version_family(model["training_version"])


def expert_defaults(family: str) -> dict[str, Any]:
    return dict(FIBO_EXPERT_DEFAULTS if family == FIBO_FAMILY else LEGACY_EXPERT_DEFAULTS)


# --- request fields by dialect ----------------------------------------------------------------


def project_create_fields(dialect: str) -> tuple[str, ...]:
    """Only generation B documents `training_version` on project create."""
    return ("training_version",) if dialect == MIXED else ()


def dataset_create_fields(dialect: str) -> tuple[str, ...]:
    return ("training_version",) if dialect == MIXED else ()


def dataset_update_fields(dialect: str) -> tuple[str, ...]:
    return {LEGACY: ("caption_prefix",), MIXED: ("caption_prefix", "visual_schema"),
            FIBO: ("visual_schema",)}[dialect]


def model_create_fields(dialect: str) -> tuple[str, ...]:
    return () if dialect == FIBO else ("training_version",)


def model_versions(dialect: str) -> tuple[str, ...]:
    return MIXED_MODEL_VERSIONS if dialect == MIXED else LEGACY_MODEL_VERSIONS


def check_family_field(dialect: str, family: str, fields: Iterable[str]) -> None:
    """In the mixed dialect, `caption_prefix` belongs to legacy datasets and `visual_schema`
    to fibo datasets only (400 otherwise)."""
    wrong = {"caption_prefix": FIBO_FAMILY, "visual_schema": LEGACY_FAMILY}
    for name in fields:
        if wrong.get(name) == family:
            raise bad_request(f"{name} cannot be set on a {family} dataset "
                              f"({'visual_schema' if name == 'caption_prefix' else 'caption_prefix'} is its field)")


def check_compatible(what: str, version: str, locked_version: str | None) -> None:
    """Generation B: a fibo dataset only in a fibo project, a fibo model only on a fibo
    dataset, and legacy versions with legacy ones (400 otherwise — the docs name the rule,
    not its status code; a validation error is 400)."""
    if locked_version is not None and version_family(version) != version_family(locked_version):
        raise bad_request(f"{what} training_version {version} is not compatible with "
                          f"{locked_version} (fibo and legacy versions cannot be mixed)")


# --- response shapes by dialect ---------------------------------------------------------------


def shape_project(view: dict[str, Any], project: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    if dialect != LEGACY:   # generation B, and a leftover in generation C's create response
        view["training_version"] = project["training_version"]
    return view


def shape_dataset(view: dict[str, Any], dataset: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    if dialect in (LEGACY, MIXED):
        view["caption_prefix"] = dataset["caption_prefix"]
        view["captions_source"] = None
    if dialect in (MIXED, FIBO):
        view["visual_schema"] = dataset["visual_schema"]
    if dialect == MIXED:
        view["training_version"] = dataset["training_version"]
    return view


def shape_model(view: dict[str, Any], model: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    if dialect != FIBO:
        view["training_version"] = model["training_version"]
        view["generation_prefix"] = model["generation_prefix"]
    return view


# --- captions by family -------------------------------------------------------------------------


def automatic_caption(dialect: str, dataset: Mapping[str, Any], image_sha256: str) -> tuple[str | None, str]:
    """(caption, caption_source) the service gives an image of this dataset now: legacy
    captions continue the caption prefix; FIBO captions are JSON made from the visual
    schema, or `(None, "pending")` while the dataset has no schema (generation C)."""
    if dataset_family(dialect, dataset) == LEGACY_FAMILY:
        return captions.automatic_caption(dataset["caption_prefix"] or "", image_sha256), "automatic"
    if dataset["visual_schema"] is None:
        return None, PENDING
    return visual_schemas.automatic_caption(dataset["visual_schema"], image_sha256), "automatic"


def manual_caption(dialect: str, dataset: Mapping[str, Any], caption: str) -> str:
    """A FIBO caption must be a JSON object (400 otherwise), stored as the service corrects it."""
    if dataset_family(dialect, dataset) == LEGACY_FAMILY:
        return caption
    return visual_schemas.checked_caption(caption)
