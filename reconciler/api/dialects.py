"""Which generation of Bria's Tailored Generation API an endpoint speaks, and what each accepts.

- `legacy`: caption prefixes, `generate_prefix`, models with `training_version`
  (light, max, bria-2.3, bria-3.2), one image completes a dataset.
- `mixed`: both families in one account; `training_version` on project create (locks it),
  on dataset create (`fibo` or a legacy version; the API defaults to `max`, so the client
  always sends it) and on model create (a `fibo` model only on a `fibo` dataset).
- `fibo`: visual schemas and JSON captions only; no caption prefix, `generate_prefix` or
  `training_version`; 5 images and a visual schema complete a dataset; checkpoints.

The client refuses, before any request, a call its dialect does not accept
(`DialectError`), so a request the API would refuse (or worse, silently ignore) is never sent.
Responses are read through `reconciler.api.shapes`, which understands every dialect's shape.
"""

from __future__ import annotations

# MIN/MAX_SCHEMA_IMAGES are read by the client through this module.
from reconciler.limits import MAX_SCHEMA_IMAGES, MIN_FIBO_IMAGES_TO_COMPLETE, MIN_SCHEMA_IMAGES  # noqa: F401

LEGACY, MIXED, FIBO = "legacy", "mixed", "fibo"
DIALECTS = (LEGACY, MIXED, FIBO)
LEGACY_FAMILY, FIBO_FAMILY = "legacy", "fibo"
FAMILIES = (LEGACY_FAMILY, FIBO_FAMILY)

# A legacy dataset in the mixed dialect: the documented default, sent explicitly because
# the docs announce the default "will change to fibo".
LEGACY_DATASET_VERSION = "max"
LEGACY_MODEL_VERSIONS = ("light", "max", "bria-2.3", "bria-3.2")
MIN_IMAGES_TO_COMPLETE = {LEGACY_FAMILY: 1, FIBO_FAMILY: MIN_FIBO_IMAGES_TO_COMPLETE}

# Expert training defaults by family (what the API fills in for parameters not sent).
EXPERT_DEFAULTS = {
    LEGACY_FAMILY: {"lr_scheduler": "constant", "learning_rate": 0.0001, "total_training_steps": 1500,
                    "rank": 128, "checkpoint_interval": 500},
    FIBO_FAMILY: {"lr_scheduler": "constant_with_warmup", "learning_rate": 0.0001, "total_training_steps": 750,
                  "rank": 128, "checkpoint_interval": 500, "lr_warmup_steps": 100},
}


class DialectError(ValueError):
    """A call the configured dialect does not accept; raised before any request."""


def families(dialect: str) -> tuple[str, ...]:
    """The dataset families an account of this dialect can hold."""
    return {LEGACY: (LEGACY_FAMILY,), MIXED: FAMILIES, FIBO: (FIBO_FAMILY,)}[dialect]


def require_family(dialect: str, family: str, what: str) -> None:
    if family not in families(dialect):
        raise DialectError(f"{what} needs a {family} dataset, which the {dialect} dialect of the API "
                           f"does not have (it has {' and '.join(families(dialect))} datasets)")


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise DialectError(f"unknown API dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")
    return dialect


def model_family(training_version: str | None) -> str:
    return FIBO_FAMILY if training_version in (None, "fibo") else LEGACY_FAMILY
