"""The JSON view of a plan — the plan's source of truth, as saved by `bria plan --out`.

Output is stable: the same plan always gives the same bytes. The plan's own lists keep
their order (`changes` is execution order); the top-level and per-change keys follow
`Plan.to_dict()`'s order so a reader sees `format_version` first; every other mapping
(before/after, step args, drift fields) has sorted keys.

(Inside this package `import json` still means the standard library: imports are absolute.)
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

_PLAN_KEYS = ("format_version", "state_lineage", "state_serial", "manifest_digest",
              "manifest_path", "targets", "excludes", "summary", "changes", "drift", "notes")
_CHANGE_KEYS = ("address", "actions", "reason", "before", "after", "depends_on", "images",
                "protected", "refused", "steps")
_STEP_KEYS = ("op", "args")
_DRIFT_KEYS = ("address", "kind", "remote_id", "fields")


def render_plan(plan: Mapping[str, Any]) -> str:
    """Indented JSON with a trailing newline."""
    return json.dumps(_canonical(plan), indent=2, ensure_ascii=False) + "\n"


def _canonical(plan: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(plan, _PLAN_KEYS)
    if isinstance(out.get("changes"), list):
        out["changes"] = [_canonical_change(c) for c in out["changes"]]
    if isinstance(out.get("drift"), list):
        out["drift"] = [_ordered(d, _DRIFT_KEYS) for d in out["drift"]]
    return out


def _canonical_change(change: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(change, _CHANGE_KEYS)
    if isinstance(out.get("steps"), list):
        out["steps"] = [_ordered(s, _STEP_KEYS) for s in out["steps"]]
    return out


def _ordered(obj: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """Known keys in their documented order, then any others sorted; values sorted deeply."""
    keys = [k for k in known if k in obj] + sorted(k for k in obj if k not in known)
    return {k: _sorted_deep(obj[k]) for k in keys}


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted_deep(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_sorted_deep(v) for v in value]
    return value


@lru_cache(maxsize=1)
def plan_schema() -> dict[str, Any]:
    """The versioned plan JSON Schema shipped with the package (schemas/plan.schema.json)."""
    text = resources.files("reconciler").joinpath("schemas/plan.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_plan(plan: Mapping[str, Any]) -> list[str]:
    """Every schema violation of a plan dict as `path: message` (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(plan_schema())
    errors = sorted(validator.iter_errors(plan), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(plan)'}: {e.message}" for e in errors]
