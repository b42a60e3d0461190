"""Fast pre-checks of documents against the shipped JSON Schemas, without jsonschema.

jsonschema (with referencing, rpds, attrs) costs ~48 ms of CPU to import, a large share of
a small `bria validate` or `bria apply`. The modules `generated_manifest` and
`generated_state` are validator code that fastjsonschema generated, at development time,
from reconciler/schemas/*.json (`python -m reconciler.schema_checks.generate`; a test fails
when they are stale); they import only the standard library.

The contract: a pre-check that says True means the document is valid; False means only
"not known to be valid", and the caller then runs jsonschema, the authority, which words
every error (and has the last word: if it finds none, the document is valid). The
generated code may be stricter than the schema (a `$` in a pattern does not match before a
trailing newline), never more lenient: tests/test_schema_checks.py runs both validators
over every fixture and systematic mutations to show it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def manifest_is_valid(document: Any) -> bool:
    """True only if `document` satisfies manifest.schema.json (False: ask jsonschema)."""
    from reconciler.schema_checks import generated_manifest

    return _passes(generated_manifest, document)


def state_is_valid(document: Any) -> bool:
    """True only if `document` satisfies state.schema.json (False: ask jsonschema)."""
    from reconciler.schema_checks import generated_state

    return _passes(generated_state, document)


def _passes(check: ModuleType, document: Any) -> bool:
    try:
        check.validate(document)
    # JsonSchemaValueException: not valid. Anything else (e.g. a non-string key meeting a
    # regex, a document nested too deep) is not the pre-check's to judge: jsonschema does.
    except Exception:   # noqa: BLE001
        return False
    return True
