"""Reading API objects whatever dialect produced them.

A legacy dataset has `caption_prefix` and no `visual_schema`; a generation-B dataset has
both keys (one null) and a `training_version`; a generation-C dataset has only
`visual_schema`. Models lose `training_version` and `generation_prefix` in generation C.
These helpers answer the questions the reconciler asks without assuming one shape.
"""

from __future__ import annotations

from typing import Any, Mapping

from reconciler.api.dialects import FIBO_FAMILY, LEGACY_FAMILY
from reconciler.json_captions import parse_json, same_json   # noqa: F401  (re-exported for callers)

PENDING = "pending"


def dataset_family(dataset: Mapping[str, Any]) -> str:
    """`fibo` or `legacy`, from whichever field the response carries."""
    version = dataset.get("training_version")
    if version is not None:
        return FIBO_FAMILY if version == "fibo" else LEGACY_FAMILY
    if "visual_schema" in dataset and "caption_prefix" not in dataset:
        return FIBO_FAMILY
    if dataset.get("visual_schema") is not None:
        return FIBO_FAMILY
    return LEGACY_FAMILY


def model_family(model: Mapping[str, Any]) -> str:
    version = model.get("training_version")
    return FIBO_FAMILY if version in (None, "fibo") else LEGACY_FAMILY


def caption_pending(image: Mapping[str, Any]) -> bool:
    """An image uploaded before its dataset had a visual schema: no caption yet."""
    return image.get("caption_source") == PENDING or (image.get("caption") is None
                                                      and image.get("caption_source") is None)
