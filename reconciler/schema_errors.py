"""The manifest's JSON Schema, and its errors as diagnostics with YAML positions.

A valid manifest is recognised by the generated pre-check (`reconciler.schema_checks`)
without importing jsonschema (~48 ms of CPU). Any other manifest is checked by jsonschema,
the authority: `Draft202012Validator.iter_errors` yields *every* violation with a path into
the document; each is turned into one or more diagnostics located at the key (or list item)
it is about, with a message written for people: unknown fields name the allowed ones (and
the closest match), missing fields are named one by one, `oneOf` failures of image entries
report the errors of the branch the entry was evidently meant to be.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from reconciler.diagnostics import Diagnostic, error
from reconciler.schema_checks import manifest_is_valid
from reconciler.yamlsource import FieldPath, SourceMap, json_path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

MANIFEST_SCHEMA = "manifest.schema.json"


@functools.lru_cache(maxsize=None)
def load_schema(name: str = MANIFEST_SCHEMA) -> dict[str, Any]:
    """A JSON Schema shipped in the package (`reconciler/schemas/<name>`)."""
    from importlib import resources   # here: only jsonschema's checks need the schema (~1.5 ms)

    text = resources.files("reconciler").joinpath("schemas", name).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=None)
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator   # here: only a manifest with errors needs it

    return Draft202012Validator(load_schema())


@dataclass(frozen=True)
class SchemaProblem:
    path: FieldPath                 # the offending field
    diagnostic: Diagnostic
    # True for an unknown field: the rest of its object is still sound, so later checks of
    # that object may run (and report their own problems in the same pass).
    harmless: bool = False


def schema_diagnostics(data: Any, source_map: SourceMap) -> list[SchemaProblem]:
    """Every schema violation in `data`, in file order."""
    if manifest_is_valid(data):
        return []
    found = [problem for err in _validator().iter_errors(data) for problem in _describe(err, source_map)]
    found.sort(key=lambda p: (p.diagnostic.source.line, p.diagnostic.source.col))
    return found


_KINDS = {"projects": "project", "datasets": "dataset", "models": "model"}


def _address(path: FieldPath) -> str | None:
    """`("datasets", "luna_v1", ...)` → `dataset.luna_v1`; None outside a resource."""
    if len(path) >= 2 and path[0] in _KINDS and isinstance(path[1], str):
        return f"{_KINDS[path[0]]}.{path[1]}"
    return None


def _diag(path: FieldPath, message: str, source_map: SourceMap, *, harmless: bool = False,
          at: FieldPath | None = None) -> SchemaProblem:
    where = source_map.key_or_value(at if at is not None else path)
    return SchemaProblem(path, error(message, where, json_path(path), _address(path)), harmless)


def _describe(err: ValidationError, smap: SourceMap) -> Iterator[SchemaProblem]:
    path: FieldPath = tuple(err.absolute_path)
    kind = err.validator
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        for key in err.instance:
            if key not in allowed:
                yield _diag(path + (key,), _unknown_field(key, allowed), smap, harmless=True)
    elif kind == "required" and isinstance(err.instance, dict):
        for key in err.validator_value:
            if key not in err.instance:
                # Located at the object that lacks it, but the field path names the field.
                yield _diag(path + (key,), f"missing required field {key!r}", smap, at=path)
    elif "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
        yield _diag(path + (err.instance,), f"invalid key {err.instance!r}: keys are lowercase "
                    "letters, digits and underscores, start with a letter, at most 63 characters", smap)
    elif kind in ("oneOf", "anyOf"):
        yield from _describe_alternatives(err, path, smap)
    else:
        yield _diag(path, _message(err), smap)


def _describe_alternatives(err: ValidationError, path: FieldPath,
                           smap: SourceMap) -> Iterator[SchemaProblem]:
    """Report the errors of the branch whose required keys the instance has, if exactly one."""
    branches = err.validator_value
    if isinstance(err.instance, dict):
        meant = [i for i, branch in enumerate(branches)
                 if branch.get("required") and all(k in err.instance for k in branch["required"])]
        if len(meant) == 1:
            for sub in err.context or ():
                if sub.schema_path and sub.schema_path[0] == meant[0]:
                    yield from _describe(sub, smap)
            return
        keys = [k for branch in branches for k in branch.get("required", [])]
        if len(meant) > 1:
            yield _diag(path, "use only one of " + " or ".join(repr(k) for k in keys)
                        + " in one entry", smap)
            return
        yield _diag(path, "needs one of " + " or ".join(repr(k) for k in keys), smap)
        return
    titles = [b.get("title", "an alternative") for b in branches]
    yield _diag(path, f"must be {' or '.join(titles)}, got {_json_type(err.instance)}", smap)


def _unknown_field(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown field {key!r}{hint} (allowed: {', '.join(allowed)})"


_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "true or false", "object": "a mapping", "array": "a list", "null": "empty"}


def _json_type(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _message(err: ValidationError) -> str:
    kind, schema, value = err.validator, err.schema, err.instance
    if kind == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return f"must be {' or '.join(_TYPE_NAMES.get(t, t) for t in wanted)}, got {_json_type(value)}"
    if kind == "enum":
        options = ", ".join(str(o) for o in err.validator_value)
        close = difflib.get_close_matches(str(value), [str(o) for o in err.validator_value], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{value!r} is not one of: {options}{hint}"
    if kind == "const":
        return f"must be {err.validator_value!r}, got {value!r}"
    if kind in ("minimum", "maximum") and "minimum" in schema and "maximum" in schema:
        return f"must be between {schema['minimum']:g} and {schema['maximum']:g}, got {value!r}"
    if kind == "minimum":
        return f"must be at least {schema['minimum']:g}, got {value!r}"
    if kind == "maximum":
        return f"must be at most {schema['maximum']:g}, got {value!r}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "not" and isinstance(err.validator_value, dict) and "required" in err.validator_value:
        # "these fields together" is forbidden: a dataset is legacy or FIBO, not both.
        return ("use only one of " + " or ".join(repr(k) for k in err.validator_value["required"])
                + " (caption_prefix: a legacy dataset; visual_schema: a FIBO dataset)")
    if kind == "pattern" and err.absolute_path and err.absolute_path[-1] == "endpoint":
        return f"must be \"emulator\" or an http(s) URL, got {value!r}"
    return err.message
