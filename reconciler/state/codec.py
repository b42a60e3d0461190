"""State ⇄ text: the one serialisation every backend uses, and the schema check on read.

The text is JSON with sorted keys, indented for people, except that an object holding only
scalars (an image record, a project's applied fields) is written on one line: a dataset of
200 images is 200 readable lines, not 1,400.

`write` runs after every API call, so encoding must be cheap. `StateEncoder` caches the text
of each dataset version and each resource record **by object identity**: state records are
frozen snapshots (a change makes a new object, see `state/model.py`), so an unchanged
object always encodes to the same text. Callers must never mutate a record's mappings in
place; build a new record instead.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.state.model import DatasetRecord, State
from reconciler.state.store import StateError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "state.schema.json"
_INDENT = "  "


class _Raw:
    """Text already encoded at the right indentation; emitted verbatim."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _is_container(value: Any) -> bool:
    return isinstance(value, _Raw) or (isinstance(value, (dict, list, tuple)) and len(value) > 0)


def encode_value(value: Any, level: int = 0) -> str:
    """Pretty JSON for `value` whose first line starts at indentation `level`."""
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, dict):
        if not any(_is_container(v) for v in value.values()):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
        pad = _INDENT * (level + 1)
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {encode_value(value[k], level + 1)}"
                 for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + _INDENT * level + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        pad = _INDENT * (level + 1)
        items = [pad + encode_value(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + _INDENT * level + "]"
    return json.dumps(value, ensure_ascii=False)


class StateEncoder:
    """Encodes States to text, reusing the text of records unchanged since the last call."""

    # Indentation levels inside the document: {"resources": {ADDR: RECORD}} puts a record at
    # level 2; its "versions" list is at level 3, so each version starts at level 4.
    _RECORD_LEVEL = 2
    _VERSION_LEVEL = 4

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, str]] = {}

    def encode(self, state: State) -> str:
        fresh: dict[int, tuple[object, str]] = {}
        resources: dict[str, Any] = {}
        for addr in state.addresses():
            record = state.get(addr)
            resources[addr] = _Raw(self._cached(record, fresh, self._encode_record))
        document = replace(state, projects={}, datasets={}, models={}).to_dict()
        document["resources"] = resources
        self._cache = fresh   # drop entries of objects no longer in the state
        return encode_value(document) + "\n"

    def _cached(self, obj: Any, fresh: dict[int, tuple[object, str]], make: Any) -> str:
        hit = self._cache.get(id(obj))
        # `hit[0] is obj` guards against a recycled id() of a collected object.
        text = hit[1] if hit is not None and hit[0] is obj else make(obj, fresh)
        fresh[id(obj)] = (obj, text)
        return text

    def _encode_record(self, record: Any, fresh: dict[int, tuple[object, str]]) -> str:
        if not isinstance(record, DatasetRecord):
            return encode_value(record.to_dict(), self._RECORD_LEVEL)
        shell = replace(record, versions=()).to_dict()
        shell["versions"] = [_Raw(self._cached(v, fresh, self._encode_version)) for v in record.versions]
        return encode_value(shell, self._RECORD_LEVEL)

    def _encode_version(self, version: Any, fresh: dict[int, tuple[object, str]]) -> str:
        return encode_value(version.to_dict(), self._VERSION_LEVEL)


def encode_state(state: State) -> str:
    """One-off encoding (no cache): the same text a store writes."""
    return StateEncoder().encode(state)


@lru_cache(maxsize=1)
def state_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def decode_state(document: Any, source: str, hint: str = "") -> State:
    """A parsed JSON document → State, after checking it against state.schema.json.

    Raises StateError naming `source` and every schema violation; `hint` is appended (e.g.
    where the backup is).
    """
    validator = state_validator()
    # is_valid is the fast path; errors are collected (all of them) only for a bad document.
    errors = [] if validator.is_valid(document) else sorted(
        validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:20]]
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise StateError(f"{source} is not a valid bria state file:\n" + "\n".join(lines) + more
                         + (f"\n{hint}" if hint else ""))
    try:
        return State.from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{source} is not a valid bria state file: {exc}" + (f"\n{hint}" if hint else "")) from exc


def parse_state_text(text: str, source: str, hint: str = "") -> State:
    """State text (as written by a store) → State; StateError naming `source` if it is bad."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{source} is corrupt (not JSON: {exc.msg} at line {exc.lineno} column {exc.colno})"
                         + (f"\n{hint}" if hint else "")) from exc
    return decode_state(document, source, hint)
