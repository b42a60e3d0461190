"""Regenerates the fast schema checks from the shipped JSON Schemas.

    python -m reconciler.schema_checks.generate

writes `generated_manifest.py` and `generated_state.py` beside this file, validator code
that fastjsonschema (a development dependency: `pip install -e ".[test]"`) generates from
reconciler/schemas/manifest.schema.json and state.schema.json. The generated code is
committed, so bria imports neither fastjsonschema nor jsonschema to accept a valid
document; tests/test_schema_checks.py fails when it is not what this script makes now.

The schemas declare draft 2020-12; fastjsonschema speaks draft-04/06/07. The code is
generated as draft-07, which is safe only for keywords whose meaning is the same in both
drafts, so this script REFUSES (raises SchemaNotSupported) a schema that uses any keyword
outside `_SCHEMA_KEYWORDS`, a `$ref` that is not `#/$defs/…` or has siblings other than
annotations, `items` as a list (tuple validation in draft-07, an error in 2020-12), or a
`pattern` with a `$` anywhere but at its end (fastjsonschema rewrites every unescaped `$`
as `\\Z`, which is stricter only at the end). Before generating, annotations are dropped
(they do not validate, and `default` must never be filled in) and every `const: X` becomes
`enum: [X]` (the same meaning; fastjsonschema's `const` cannot generate the short-error
form). Whatever the generated code gets wrong must only ever be stricter than jsonschema:
tests/test_schema_checks.py runs both over fixtures and systematic mutations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
OUTPUT = Path(__file__).resolve().parent
# (schema file, generated module) pairs.
TARGETS = (("manifest.schema.json", "generated_manifest.py"), ("state.schema.json", "generated_state.py"))

_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_ANNOTATIONS = frozenset({"description", "title", "default", "$comment", "examples"})
_SUBSCHEMA = frozenset({"additionalProperties", "items", "not", "propertyNames"})   # value: one schema
_SUBSCHEMA_MAP = frozenset({"properties", "patternProperties"})                     # value: {name: schema}
_SUBSCHEMA_LIST = frozenset({"oneOf"})                                              # value: [schema, …]
_VALUES = frozenset({"type", "required", "enum", "const", "pattern", "minLength", "maxLength", "minimum",
                     "maximum", "minItems", "maxItems", "minProperties", "$ref"})
# Every keyword a (sub)schema may use: these mean the same in draft 2020-12 and draft-07.
_SCHEMA_KEYWORDS = _ANNOTATIONS | _SUBSCHEMA | _SUBSCHEMA_MAP | _SUBSCHEMA_LIST | _VALUES
_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})

# Lines of fastjsonschema's output replaced, each by what follows it: the generated module then
# imports nothing but `re`. Its own import of fastjsonschema (~2.4 ms) becomes a local
# exception class; `decimal` (~1.1 ms where nothing else imports it) only serves "a Decimal
# is a number", and documents come from JSON or YAML, which make no Decimal (were one to
# come, the check would refuse it: the stricter side).
_DECIMAL_IMPORT = "from decimal import Decimal\n"
_NO_DECIMAL = ('\n\nclass Decimal:\n'
               '    """Stands in for decimal.Decimal: no document holds one (JSON and YAML make none)."""\n')
_NONE_TYPE = "\nNoneType = type(None)\n"     # the stand-in goes before this line
_RUNTIME_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException\n"
_OWN_EXCEPTION = ('\n\nclass JsonSchemaValueException(ValueError):\n'
                  '    """The document does not satisfy the schema (no detail: jsonschema words the errors)."""\n'
                  '\n\n'
                  'JsonSchemaValuesException = JsonSchemaValueException\n')


class SchemaNotSupported(ValueError):
    """The schema uses something whose draft-07 meaning may differ from draft 2020-12's."""


def draft07_equivalent(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (draft 2020-12) as a draft-07 schema of the same meaning, without annotations;
    SchemaNotSupported if that cannot be guaranteed."""
    if schema.get("$schema") != _DRAFT_2020_12:
        raise SchemaNotSupported(f"$schema must be {_DRAFT_2020_12}, not {schema.get('$schema')!r}")
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict):
        raise SchemaNotSupported("$defs must be a mapping")
    body = {k: v for k, v in schema.items() if k not in _ROOT_ONLY}
    out = _subschema(body, "#", defs)
    assert isinstance(out, dict)
    out["$schema"] = _DRAFT_07
    out["$defs"] = {name: _subschema(sub, f"#/$defs/{name}", defs) for name, sub in defs.items()}
    return out


def _subschema(node: Any, where: str, defs: dict[str, Any]) -> Any:
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise SchemaNotSupported(f"{where}: a schema must be a mapping or a boolean")
    unknown = set(node) - _SCHEMA_KEYWORDS
    if unknown:
        raise SchemaNotSupported(f"{where}: keywords {sorted(unknown)} are not on the allow-list")
    if "const" in node and "enum" in node:
        raise SchemaNotSupported(f"{where}: const and enum together")
    if "$ref" in node:
        _check_ref(node, where, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS:
            continue
        if key in _SUBSCHEMA:
            if key == "items" and not isinstance(value, (dict, bool)):
                raise SchemaNotSupported(f"{where}/items: only a single schema (not a list) is supported")
            out[key] = _subschema(value, f"{where}/{key}", defs)
        elif key in _SUBSCHEMA_MAP:
            out[key] = {name: _subschema(sub, f"{where}/{key}/{name}", defs) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LIST:
            out[key] = [_subschema(sub, f"{where}/{key}/{i}", defs) for i, sub in enumerate(value)]
        elif key == "const":
            out["enum"] = [value]
        elif key == "pattern":
            out[key] = _checked_pattern(value, f"{where}/pattern")
        else:
            out[key] = value
    if "patternProperties" in out:
        for pattern in out["patternProperties"]:
            _checked_pattern(pattern, f"{where}/patternProperties")
    return out


def _check_ref(node: dict[str, Any], where: str, defs: dict[str, Any]) -> None:
    ref = node["$ref"]
    siblings = set(node) - {"$ref"} - _ANNOTATIONS
    if siblings:
        # 2020-12 applies a $ref's siblings too; draft-07 ignores them.
        raise SchemaNotSupported(f"{where}: $ref with siblings {sorted(siblings)}")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/") or ref.removeprefix("#/$defs/") not in defs:
        raise SchemaNotSupported(f"{where}: $ref {ref!r} is not one of this schema's #/$defs/…")


def _checked_pattern(pattern: str, where: str) -> str:
    re.compile(pattern)
    if "$" in pattern[:-1]:
        raise SchemaNotSupported(f"{where}: {pattern!r} has a '$' before its end")
    return pattern


def generated_code(schema_file: str) -> str:
    """The module text generated from `reconciler/schemas/<schema_file>`."""
    import fastjsonschema

    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    code = fastjsonschema.compile_to_code(draft07_equivalent(schema), use_default=False, use_formats=False,
                                          detailed_exceptions=False)
    if code.count(_RUNTIME_IMPORT) != 1 or code.count(_DECIMAL_IMPORT) != 1 or code.count(_NONE_TYPE) != 1:
        raise SchemaNotSupported("fastjsonschema's output no longer has the import lines this script replaces")
    header = (f'"""Generated from reconciler/schemas/{schema_file} by `python -m reconciler.schema_checks.generate`'
              f'\n(fastjsonschema {fastjsonschema.VERSION}, as draft-07): do not edit. `validate(document)` raises\n'
              'JsonSchemaValueException when the document is not valid; reconciler/schema_checks/__init__.py\n'
              'says how bria uses it."""\n'
              '# ruff: noqa\n'
              '# fmt: off\n')
    code = code.replace(_RUNTIME_IMPORT, _OWN_EXCEPTION).replace(_DECIMAL_IMPORT, "")
    return header + code.replace(_NONE_TYPE, _NO_DECIMAL + _NONE_TYPE).rstrip("\n") + "\n"


def main() -> None:
    for schema_file, module in TARGETS:
        path = OUTPUT / module
        path.write_text(generated_code(schema_file), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
