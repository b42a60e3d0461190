"""The generated schema pre-checks (reconciler/schema_checks/): fresh, refusing what draft-07
may read differently, and never more lenient than jsonschema.

The safety contract of a pre-check is one-way: when it accepts a document, jsonschema must
accept it too (it may refuse more: jsonschema then has the last word). It is shown here on
every manifest and state in the repository and on systematic single-point mutations of a
manifest and a state that use every part of their schemas: each value replaced by one of
each JSON type (and a few YAML-only ones), each key removed, renamed or added.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fixtures_state import make_sample_state

from reconciler import schema_checks
from reconciler.schema_checks import generate
from reconciler.schema_errors import _validator as manifest_validator
from reconciler.schema_errors import load_schema, schema_diagnostics
from reconciler.state.codec import passes_fast_check, state_validator
from reconciler.state.model import migrate_v1
from reconciler.yamlsource import load_yaml

REPO = Path(__file__).resolve().parent.parent


# --- the generated code is what the generator makes now ------------------------------------

@pytest.mark.parametrize("schema_file,module", generate.TARGETS)
def test_generated_checks_are_fresh(schema_file: str, module: str) -> None:
    committed = (generate.OUTPUT / module).read_text(encoding="utf-8")
    assert committed == generate.generated_code(schema_file), (
        f"reconciler/schema_checks/{module} is stale: run `python -m reconciler.schema_checks.generate`")


def test_generated_checks_import_only_the_standard_library() -> None:
    for _, module in generate.TARGETS:
        text = (generate.OUTPUT / module).read_text(encoding="utf-8")
        imports = sorted({line for line in text.splitlines() if line.startswith(("import ", "from "))})
        assert imports == ["import re"], module


# --- the generator refuses what draft-07 may read differently --------------------------------

def _schema(**root: Any) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", **root}


@pytest.mark.parametrize("schema,why", [
    (_schema(properties={"a": {"type": "string", "format": "email"}}), "not on the allow-list"),
    (_schema(properties={"a": {"prefixItems": [{"type": "string"}]}}), "not on the allow-list"),
    (_schema(unevaluatedProperties=False), "not on the allow-list"),
    (_schema(properties={"a": {"if": {"type": "string"}, "then": {"minLength": 1}}}), "not on the allow-list"),
    (_schema(dependentRequired={"a": ["b"]}), "not on the allow-list"),
    (_schema(properties={"a": {"$ref": "#/$defs/x", "type": "string"}}, **{"$defs": {"x": {}}}), "siblings"),
    (_schema(properties={"a": {"$ref": "https://example.com/s.json"}}), "is not one of this schema's"),
    (_schema(properties={"a": {"$ref": "#/$defs/missing"}}, **{"$defs": {}}), "is not one of this schema's"),
    (_schema(properties={"a": {"items": [{"type": "string"}]}}), "not a list"),
    (_schema(properties={"a": {"pattern": "^a$|^b$"}}), "'$' before its end"),
    (_schema(patternProperties={"^x$y": {}}), "'$' before its end"),
    (_schema(properties={"a": {"$defs": {}}}), "not on the allow-list"),
    (_schema(properties={"a": {"const": 1, "enum": [1]}}), "const and enum together"),
    ({**_schema(), "$schema": "http://json-schema.org/draft-07/schema#"}, "$schema must be"),
])
def test_the_generator_refuses_a_schema_it_cannot_translate_exactly(schema: dict[str, Any], why: str) -> None:
    with pytest.raises(generate.SchemaNotSupported, match=why.replace("$", r"\$").replace("'", ".")):
        generate.draft07_equivalent(schema)


def test_the_generator_translates_const_and_drops_annotations() -> None:
    schema = _schema(properties={"v": {"const": 1, "description": "d", "default": 1},
                                 "r": {"$ref": "#/$defs/x", "description": "annotations may sit by a $ref"}},
                     **{"$defs": {"x": {"type": "string", "title": "t"}}})
    assert generate.draft07_equivalent(schema) == {
        "type": "object", "properties": {"v": {"enum": [1]}, "r": {"$ref": "#/$defs/x"}},
        "$schema": "http://json-schema.org/draft-07/schema#", "$defs": {"x": {"type": "string"}}}


# --- documents: every one in the repository, and one using every part of each schema ----------

def _yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"), str(path)).data
    except (UnicodeDecodeError, OSError):
        return None


def _repository_manifests() -> list[tuple[str, Any]]:
    paths = sorted([*REPO.glob("examples/*/bria.y*ml"), *REPO.glob("tests/bad_manifests/*/*.yaml"),
                    *REPO.glob("tests/golden/*/manifest.yaml"), REPO / "tests/v1_state_from_main/bria.yaml"])
    found = [(str(p.relative_to(REPO)), _yaml(p)) for p in paths]
    return [(name, data) for name, data in found if data is not None]


def _repository_states() -> list[tuple[str, Any]]:
    """Every state file in the repository, as read (format 1 as written, and migrated to
    format 2 as `decode_state` does before checking it); golden states' image tokens
    (`{{sha:a}}`) are given made-up hashes."""
    paths = sorted([*REPO.glob("tests/golden/*/state.json"), REPO / "tests/v1_state_from_main/state-v1.json"])
    found = []
    for path in paths:
        text = re.sub(r"\{\{sha(16)?:([^}]+)\}\}",
                      lambda m: hashlib.sha256(m[2].encode()).hexdigest()[:16 if m[1] else 64], path.read_text())
        document = json.loads(text)
        found.append((str(path.relative_to(REPO)), document))
        if document.get("format_version") == 1:
            found.append((f"{path.relative_to(REPO)} (migrated)", migrate_v1(document)))
    readme = (REPO / "state" / "README.md").read_text()
    found.append(("state/README.md", json.loads(readme.split("```json\n", 1)[1].split("```", 1)[0])))
    return found


# Uses every property of manifest.schema.json (both image-entry kinds, both caption kinds).
FULL_MANIFEST: dict[str, Any] = {
    "version": 1,
    "api": {"endpoint": "https://engine.prod.bria-api.com/v1", "dialect": "mixed",
            "emulator": {"training_seconds": 1.5, "dialect": "fibo"}},
    "state": {"backend": "postgres", "path": "state/x.json", "dsn_env": "TEAM_PG", "workspace": "prod"},
    "naming": {"versions": "{name} v{version}"},
    "projects": {"luna": {"name": "Luna", "description": "", "ip_type": "defined_character",
                          "ip_medium": "illustration", "ip_name": "Luna", "ip_description": "a girl",
                          "allow_duplicate_name": False}},
    "datasets": {
        "luna_v1": {"project": "luna", "name": "Luna set", "caption_prefix": "An illustration of Luna, ",
                    "increase_resolution": True, "allow_duplicate_name": False, "complete": True,
                    "images": [{"folder": "images", "recursive": True},
                               {"file": "images/a.png", "caption": "Luna waves"}]},
        "fibo_v1": {"project": "luna", "name": "Fibo set", "visual_schema": {"style": "flat"},
                    "images": [{"file": "images/b.png", "caption": {"subject": "Luna"}}]},
        "fibo_v2": {"project": "luna", "name": "Fibo 2", "visual_schema": "auto"},
    },
    "models": {"luna_max": {"dataset": "luna_v1", "name": "Luna max", "description": "",
                            "training_version": "max", "training_mode": "expert",
                            "training_parameters": {"learning_rate": 0.0001, "total_training_steps": 1500,
                                                    "rank": 128, "lr_scheduler": "constant",
                                                    "checkpoint_interval": 500, "lr_warmup_steps": 100},
                            "allow_duplicate_name": False, "train": True,
                            "samples": {"prompts": ["Luna reading"], "seeds": [1, 4294967295], "count": 4,
                                        "aspect_ratio": "16:9", "negative_prompt": "", "influence": 1.5,
                                        "steps": 30, "guidance_scale": 4, "fast": True,
                                        "include_generation_prefix": False, "content_moderation": True}}},
    "moved": [{"from": "model.old_max", "to": "model.luna_max"}],
    "removed": [{"address": "model.gone", "destroy": False}],
    "import": [{"to": "project.luna", "id": 12}],
}


def _full_state() -> dict[str, Any]:
    document = make_sample_state(datasets=1, images=2).to_dict()
    document["endpoint"] = "https://engine.prod.bria-api.com/v1"
    document["refreshed_at"] = "2024-05-01T10:00:00+00:00"
    versions = document["resources"]["dataset.ds0"]["versions"]
    versions[0]["images"]["unknown-77"] = {"remote_id": 77, "image_name": "stray.png", "caption": None,
                                           "caption_source": "unknown"}
    versions[1]["visual_schema"] = '{"style": "flat"}'
    document["resources"]["dataset.ds0"]["pinned_schema"] = '{"style": "flat"}'
    document["resources"]["model.luna_max"]["superseded"][0]["generation_prefix"] = None
    return document


# --- single-point mutations -------------------------------------------------------------------

# One of each JSON type (numbers around the schemas' bounds), and values only YAML makes.
VALUES: tuple[Any, ...] = (True, False, 0, 1, 1.0, -1, 2, 3, 2.5, 5000, 4294967296, 1e-7, float("nan"),
                           float("inf"), "", "x", "a\n", "auto", [], [1], ["x"], {}, {"x": 1}, None,
                           datetime.date(2024, 5, 1), decimal.Decimal("1"))
ODD_KEYS: tuple[Any, ...] = ("zzz", "", "Bad-Key", "a\n", "unknown-1\n")
YAML_KEYS: tuple[Any, ...] = (1, True, None)     # a JSON state has string keys only


def _nodes(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, document
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _nodes(value, path + (index,))


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    for _, node in _nodes(schema):
        if isinstance(node, dict) and isinstance(node.get("properties"), dict):
            names |= set(node["properties"])
    return names


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _mutants(document: Any, known_keys: set[str], odd_keys: tuple[Any, ...]) -> Iterator[tuple[str, Any]]:
    """(what changed, the changed copy) for every single-point mutation of `document`: each
    value replaced, each key removed or renamed, each property name the schema knows (and
    odd keys) added to each mapping, an item added to each list."""
    for path, node in list(_nodes(document)):
        where = "/" + "/".join(map(str, path))
        for value in VALUES + ((node + "\n", node + "$") if isinstance(node, str) else ()):
            if path:
                yield f"{where} = {value!r}", _replaced(document, path, value)
        if isinstance(node, dict):
            for key in node:
                mutant = copy.deepcopy(document)
                del _at(mutant, path)[key]
                yield f"{where}: without {key!r}", mutant
                for odd in odd_keys:
                    mutant = copy.deepcopy(document)
                    parent = _at(mutant, path)
                    parent[odd] = parent.pop(key)
                    yield f"{where}: {key!r} renamed {odd!r}", mutant
            for key in sorted(known_keys - set(node)) + list(odd_keys):
                for value in ("x", {"x": 1}):
                    mutant = copy.deepcopy(document)
                    _at(mutant, path)[key] = value
                    yield f"{where}: plus {key!r} = {value!r}", mutant
        if isinstance(node, list):
            for value in (None, {}, "x", copy.deepcopy(node[0]) if node else 1):
                mutant = copy.deepcopy(document)
                _at(mutant, path).append(value)
                yield f"{where}: plus item {value!r}", mutant


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    mutant = copy.deepcopy(document)
    _at(mutant, path[:-1])[path[-1]] = value
    return mutant


def _leniencies(documents: list[tuple[str, Any]], fast: Callable[[Any], bool],
                authority: Callable[[Any], bool]) -> tuple[list[str], int]:
    """(what the pre-check accepts and jsonschema refuses, how many it accepts). jsonschema
    runs only where the pre-check accepts: refusing more is allowed."""
    lenient, accepted = [], 0
    for what, document in documents:
        if fast(document):
            accepted += 1
            if not authority(document):
                lenient.append(what)
    return lenient, accepted


def _manifest_valid(document: Any) -> bool:
    return manifest_validator().is_valid(document)


def _state_schema() -> dict[str, Any]:
    return json.loads((REPO / "reconciler/schemas/state.schema.json").read_text())


def test_every_valid_repository_document_passes_the_pre_check() -> None:
    """Else the fast path would be no faster: a valid document must not need jsonschema."""
    manifests = [(name, d) for name, d in _repository_manifests() if _manifest_valid(d)]
    states = [(name, d) for name, d in _repository_states() if state_validator().is_valid(d)]
    assert len(manifests) > 30 and len(states) > 30
    assert [name for name, d in manifests if not schema_checks.manifest_is_valid(d)] == []
    assert [name for name, d in states if not passes_fast_check(d) or not schema_checks.state_is_valid(d)] == []
    assert _manifest_valid(FULL_MANIFEST) and schema_checks.manifest_is_valid(FULL_MANIFEST)
    assert state_validator().is_valid(_full_state()) and passes_fast_check(_full_state())


def test_the_manifest_pre_check_is_never_more_lenient_than_jsonschema() -> None:
    documents = [*_repository_manifests(), *_mutants(FULL_MANIFEST, _property_names(load_schema()),
                                                     ODD_KEYS + YAML_KEYS)]
    lenient, accepted = _leniencies(documents, schema_checks.manifest_is_valid, _manifest_valid)
    assert lenient == [], lenient[:20]
    assert len(documents) > 6000 and accepted > 500    # the mutations reach valid documents too


def test_the_state_pre_checks_are_never_more_lenient_than_jsonschema() -> None:
    """Both the codec's fast path (generated code + `_ImageMapCheck`) and the generated code
    alone (the codec's fallback if `_ImageMapCheck` cannot be compiled from the schema)."""
    documents = [*_repository_states(), *_mutants(_full_state(), _property_names(_state_schema()), ODD_KEYS)]
    for fast in (passes_fast_check, schema_checks.state_is_valid):
        lenient, accepted = _leniencies(documents, fast, state_validator().is_valid)
        assert lenient == [], (fast.__name__, lenient[:20])
        assert len(documents) > 4000 and accepted > 100, fast.__name__


def test_a_bool_is_not_the_integer_one() -> None:
    """Python's True == 1: `version: true` and `format_version: true` must not pass."""
    assert not schema_checks.manifest_is_valid({**FULL_MANIFEST, "version": True})
    assert schema_checks.manifest_is_valid({**FULL_MANIFEST, "version": 1.0}) == _manifest_valid(
        {**FULL_MANIFEST, "version": 1.0})
    assert not schema_checks.state_is_valid({**_full_state(), "format_version": True})
    assert not passes_fast_check({**_full_state(), "format_version": True})


def test_a_manifest_the_pre_check_refuses_is_worded_by_jsonschema() -> None:
    document = load_yaml("version: true\nprojects:\n  p:\n    name: P\n    ip_type: other\n"
                         "    ip_medium: photography\n", "bria.yaml")
    problems = schema_diagnostics(document.data, document.source_map)
    assert [p.diagnostic.message for p in problems] == ["must be 1, got True"]
