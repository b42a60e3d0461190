"""State ⇄ text: the one serialisation every backend uses, and the schema check on read.

state.schema.json is the contract every state read is checked against. jsonschema costs
~48 ms of CPU to import and ~0.05 ms per image record (0.25 s for 5,000, on every `plan`),
so the check has a fast path that needs no jsonschema (`passes_fast_check`): the document
with its image maps emptied is checked by validator code generated from the schema
(`reconciler.schema_checks.state_is_valid`), and the image maps by a small predicate
compiled from the schema's own definitions (`_ImageMapCheck`, twice as fast as the
generated code on image records). Only a document that fails the fast path is checked by
jsonschema in full, which then finds (and words) every violation, or finds none: it has
the last word. The fast path may refuse what the schema accepts (it is stricter, e.g. on
1.0 as an integer), never the reverse (tests/test_schema_checks.py).

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
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import schema_checks
from reconciler.state.model import (PENDING_CHANGES_FORMAT_VERSION, STATE_FORMAT_VERSION, DatasetRecord, State,
                                    migrate_v1)
from reconciler.state.store import StateError

if TYPE_CHECKING:
    import jsonschema

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
    # The schema itself is checked against its metaschema by tests/test_state_schema.py, not
    # on every read: that check costs ~50 ms of CPU, a sixth of a small `bria plan`.
    import jsonschema  # here: only a state that fails the fast path needs it (~48 ms to import)

    return jsonschema.validators.validator_for(_schema())(_schema())


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


_PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "null": type(None), "boolean": bool}
_SCALAR_KEYWORDS = {"description", "type", "enum", "const", "$ref"}
_HASHABLE = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True)
class _ScalarRule:
    """Exact Python types a value may have (bool is not int), and the (type, value) pairs it
    may take when the schema lists them (`enum`, `const`); None means any."""

    types: frozenset[type] | None
    values: frozenset[tuple[type, Any]] | None


class _ImageMapCheck:
    """A predicate for one dataset version's `images` map, built from the schema's own
    definitions: keys per `propertyNames.pattern`, values per `$defs.image` (an object of
    scalar properties: type, enum, const, local `$ref`). `compile` returns None when the
    schema uses anything else, and the caller then relies on jsonschema alone."""

    def __init__(self, key_pattern: str, required: set[str], rules: dict[str, _ScalarRule]):
        self._key = re.compile(key_pattern)
        self._required = frozenset(required)
        self._allowed = frozenset(rules)
        self._rules = rules

    @classmethod
    def compile(cls, schema: dict[str, Any]) -> _ImageMapCheck | None:
        try:
            images = schema["$defs"]["dataset_version"]["properties"]["images"]
            record = _resolve(schema, images["additionalProperties"])
            if set(images) - {"description", "type", "propertyNames", "additionalProperties"} or \
                    set(images["propertyNames"]) != {"pattern"} or images["type"] != "object":
                return None
            if set(record) - {"description", "type", "required", "additionalProperties", "properties"} or \
                    record["type"] != "object" or record["additionalProperties"] is not False:
                return None
            rules = {name: _scalar_rule(schema, sub) for name, sub in record["properties"].items()}
        except (KeyError, TypeError, ValueError):
            return None
        return cls(images["propertyNames"]["pattern"], set(record.get("required", ())), rules)

    def __call__(self, images: Any) -> bool:
        if not isinstance(images, dict):
            return False
        for key, record in images.items():
            if not self._key.search(key) or type(record) is not dict:
                return False
            keys = record.keys()
            if not self._required <= keys or not keys <= self._allowed:
                return False
            for name, value in record.items():
                rule = self._rules[name]
                if rule.types is not None and type(value) not in rule.types:
                    return False
                if rule.values is not None and (type(value) not in _HASHABLE
                                                or (type(value), value) not in rule.values):
                    return False
        return True


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    if not ref.startswith("#/$defs/") or set(node) - {"$ref", "description"}:
        raise ValueError(f"unsupported reference {ref!r}")
    return _resolve(schema, schema["$defs"][ref.removeprefix("#/$defs/")])


def _scalar_rule(schema: dict[str, Any], node: dict[str, Any]) -> _ScalarRule:
    node = _resolve(schema, node)
    if set(node) - _SCALAR_KEYWORDS:
        raise ValueError(f"unsupported keywords {sorted(set(node) - _SCALAR_KEYWORDS)}")
    names = node.get("type")
    types = None if names is None else frozenset(
        _PYTHON_TYPES[name] for name in ([names] if isinstance(names, str) else names))
    listed = [node["const"]] if "const" in node else node.get("enum")
    values = None if listed is None else frozenset((type(v), v) for v in listed)
    return _ScalarRule(types, values)


@lru_cache(maxsize=1)
def _image_map_check() -> _ImageMapCheck | None:
    return _ImageMapCheck.compile(_schema())


def _images_set_aside(document: Any) -> tuple[Any, list[Any]]:
    """A shallow copy of `document` whose dataset versions have empty `images` maps, and
    those maps. Anything not shaped as the schema expects is left in place."""
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, dict):
        return document, []
    set_aside: list[Any] = []
    slim_resources = dict(resources)
    for address, record in resources.items():
        versions = record.get("versions") if isinstance(record, dict) else None
        if not address.startswith("dataset.") or not isinstance(versions, list):
            continue
        slim_versions = []
        for version in versions:
            if isinstance(version, dict) and "images" in version:
                set_aside.append(version["images"])
                version = {**version, "images": {}}
            slim_versions.append(version)
        slim_resources[address] = {**record, "versions": slim_versions}
    return {**document, "resources": slim_resources}, set_aside


def passes_fast_check(document: Any) -> bool:
    """The fast path alone: True only if `document` satisfies state.schema.json (False: ask
    jsonschema). Imports no jsonschema."""
    check = _image_map_check()
    if check is None:
        return schema_checks.state_is_valid(document)
    slim, image_maps = _images_set_aside(document)
    return all(check(images) for images in image_maps) and schema_checks.state_is_valid(slim)


def state_is_valid(document: Any) -> bool:
    """Whether `document` satisfies state.schema.json (the fast path described above)."""
    return passes_fast_check(document) or state_validator().is_valid(document)


class NewerStateFormat(StateError):
    """The state was written by a newer bria, in a format_version this bria cannot read.

    Not damage: the file is probably fine, and replacing it with an older copy (a backup)
    would roll the state back, so the fix is to upgrade bria."""

    def __init__(self, source: str, format_version: int, note: str = ""):
        self.source = source
        self.format_version = format_version
        super().__init__(
            f"{source} was written by a newer bria (state format_version {format_version}; this bria reads "
            f"format_version {STATE_FORMAT_VERSION}). Upgrade bria to use it; nothing was changed."
            + (f"\n{note}" if note else ""))


def check_format_version(document: Any, source: str) -> None:
    """Raise NewerStateFormat when `document` declares a format_version above this bria's
    (the pending-changes mark is this bria's own: see PENDING_CHANGES_FORMAT_VERSION)."""
    version = document.get("format_version") if isinstance(document, dict) else None
    if type(version) is int and version > STATE_FORMAT_VERSION and version != PENDING_CHANGES_FORMAT_VERSION:
        raise NewerStateFormat(source, version)


def has_pending_mark(document: Any) -> bool:
    """Whether a snapshot is marked as having changes after it."""
    return isinstance(document, dict) and document.get("format_version") == PENDING_CHANGES_FORMAT_VERSION


def without_pending_mark(document: Any) -> Any:
    """A marked snapshot as the format-2 document it is (other documents unchanged)."""
    return {**document, "format_version": STATE_FORMAT_VERSION} if has_pending_mark(document) else document


def decode_state(document: Any, source: str, hint: str = "") -> State:
    """A parsed JSON document → State, after checking it against state.schema.json.

    Raises NewerStateFormat for a state from a newer bria (without `hint`: that is no damage
    to repair), else StateError naming `source` and every schema violation, with `hint`
    appended (e.g. where the backup is).
    """
    check_format_version(document, source)
    document = without_pending_mark(document)
    if isinstance(document, dict) and document.get("format_version") == 1:
        document = _migrated(document)
    # The fast check first; jsonschema collects the errors (all of them) of any other document
    # (and finding none, it is valid: jsonschema has the last word).
    errors = [] if passes_fast_check(document) else sorted(
        state_validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:20]]
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise StateError(f"{source} is not a valid bria state file:\n" + "\n".join(lines) + more
                         + (f"\n{hint}" if hint else ""))
    try:
        return State.from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{source} is not a valid bria state file: {exc}" + (f"\n{hint}" if hint else "")) from exc


def _migrated(document: dict[str, Any]) -> dict[str, Any]:
    """A format-1 document as format 2, for the schema check (a malformed one is left for
    the schema check to describe)."""
    try:
        return migrate_v1(document)
    except (AttributeError, TypeError):
        return document


def parse_state_text(text: str, source: str, hint: str = "") -> State:
    """State text (as written by a store) → State; StateError naming `source` if it is bad."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{source} is corrupt (not JSON: {exc.msg} at line {exc.lineno} column {exc.colno})"
                         + (f"\n{hint}" if hint else "")) from exc
    return decode_state(document, source, hint)
