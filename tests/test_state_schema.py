"""state.schema.json describes State.to_dict() exactly; open_store picks the right backend."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
from fixtures_state import make_sample_state

from reconciler.model import StateConfig
from reconciler.state import open_store
from reconciler.state.codec import SCHEMA_PATH, decode_state, state_is_valid, state_validator
from reconciler.state.local import LocalStateStore
from reconciler.state.model import State
from reconciler.state.postgres import PostgresStateStore
from reconciler.state.store import StateError


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _property_schemas(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}/{name}", sub
        for key, sub in node.items():
            yield from _property_schemas(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _property_schemas(sub, f"{where}/{i}")


def test_schema_is_valid_draft_2020_12_and_every_field_is_described() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    undocumented = [where for where, sub in _property_schemas(schema)
                    if "description" not in sub and "$ref" not in sub]
    assert undocumented == []


def test_real_states_validate(tmp_path: Path) -> None:
    for state in (State.empty(), make_sample_state(), make_sample_state(datasets=3, images=5)):
        assert list(state_validator().iter_errors(state.to_dict())) == []
    store = LocalStateStore(tmp_path / "s.json")
    store.read()
    written = store.write(make_sample_state())
    assert list(state_validator().iter_errors(json.loads(store.path.read_text()))) == []
    assert store.read() == written


def test_schema_requires_every_field_that_to_dict_writes() -> None:
    """Dropping any field anywhere from a real state makes it invalid: the schema is exact."""
    document = make_sample_state(images=1).to_dict()
    paths = list(_dict_paths(document))
    assert len(paths) > 40
    for path in paths:
        broken = copy.deepcopy(document)
        parent = broken
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        assert not state_validator().is_valid(broken), f"dropping {'/'.join(map(str, path))} went unnoticed"
        assert not state_is_valid(broken), f"the fast check missed dropping {'/'.join(map(str, path))}"


def _dict_paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Paths of every fixed field (not map entries keyed by address or sha256)."""
    if isinstance(node, dict):
        for key, value in node.items():
            is_map_entry = "." in key or len(key) == 64
            if not is_map_entry and not (prefix and prefix[-1] in ("applied", "detail", "training_parameters")):
                yield prefix + (key,)
            yield from _dict_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _dict_paths(value, prefix + (i,))


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.update(extra=1), "unknown top-level field"),
    (lambda d: d["resources"].update({"thing.x": {}}), "unknown address kind"),
    (lambda d: d["resources"]["project.luna"].update(type="dataset"), "type that disagrees with the address"),
    (lambda d: d["resources"]["dataset.ds0"]["versions"][0]["images"].update({"nothex": {}}), "image key not a sha256"),
    (lambda d: d["journal"][0].update(op="teleport"), "unknown journal op"),
    (lambda d: d.update(serial=-1), "negative serial"),
])
def test_schema_rejects(mutate, where: str) -> None:
    document = make_sample_state().to_dict()
    mutate(document)
    assert not state_validator().is_valid(document), where
    assert not state_is_valid(document), where


# --- the fast check agrees with the schema ---------------------------------------------------

_SHA = hashlib.sha256(b"x").hexdigest()


def _first_image(document: dict[str, Any]) -> dict[str, Any]:
    images = document["resources"]["dataset.ds0"]["versions"][0]["images"]
    return images[sorted(images)[0]]


@pytest.mark.parametrize("mutate, where", [
    (lambda d: _first_image(d).update(caption=7), "caption of the wrong type"),
    (lambda d: _first_image(d).update(caption_source="guessed"), "caption_source not in the enum"),
    (lambda d: _first_image(d).update(caption_source=["manual"]), "caption_source a list"),
    (lambda d: _first_image(d).update(remote_id=True), "a boolean remote_id"),
    (lambda d: _first_image(d).update(remote_id="12"), "a string remote_id"),
    (lambda d: _first_image(d).update(extra="x"), "an unknown image field"),
    (lambda d: _first_image(d).pop("image_name"), "a missing image field"),
    (lambda d: d["resources"]["dataset.ds0"]["versions"][1]["images"].update({_SHA.upper(): {}}), "upper-case key"),
    (lambda d: d["resources"]["dataset.ds0"]["versions"][1].update(images=[]), "images not a map"),
    (lambda d: d["resources"]["dataset.ds0"]["versions"][1].update(status="gone"), "bad version status"),
    (lambda d: d["resources"]["dataset.ds0"].update(versions={}), "versions not a list"),
    (lambda d: d.update(resources=[]), "resources not a map"),
])
def test_fast_check_refuses_what_the_schema_refuses(mutate, where: str) -> None:
    document = make_sample_state(datasets=2, images=4).to_dict()
    assert state_is_valid(document)
    mutate(document)
    assert not state_validator().is_valid(document), where
    assert not state_is_valid(document), where
    with pytest.raises(StateError, match="is not a valid bria state file"):
        decode_state(document, "s.json")


def test_fast_check_falls_back_to_the_schema_for_what_it_is_unsure_of() -> None:
    """1.0 is an integer to JSON Schema; the fast check is stricter and defers to jsonschema."""
    document = make_sample_state().to_dict()
    _first_image(document)["remote_id"] = 1000.0
    assert state_validator().is_valid(document) and state_is_valid(document)


def test_schema_violation_in_an_image_is_worded_by_jsonschema() -> None:
    document = make_sample_state().to_dict()
    _first_image(document)["caption_source"] = "guessed"
    with pytest.raises(StateError) as caught:
        decode_state(document, "s.json")
    assert "at /resources/dataset.ds0/versions/0/images/" in str(caught.value)
    assert "'guessed' is not one of ['manual', 'automatic', 'unknown']" in str(caught.value)


def test_reading_a_state_of_five_thousand_images_is_fast() -> None:
    document = make_sample_state(datasets=25, images=100).to_dict()   # 2 versions each: 5,000 images
    validator = state_validator()   # built once per process; not what is measured
    started = time.perf_counter()
    state = decode_state(document, "s.json")
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    validator.validate(document)
    full_validation = time.perf_counter() - started
    assert len(state.datasets) == 25
    # A ratio on the same machine, not a wall-clock bound: decoding must not run the full
    # jsonschema validation over every image (absolute speed is for benchmarks/).
    assert elapsed < full_validation / 2, f"decode {elapsed:.2f} s vs jsonschema {full_validation:.2f} s"


# --- open_store ------------------------------------------------------------------------------


def test_open_store_defaults_to_the_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    store = open_store(StateConfig(path=tmp_path / "s.json"))
    assert isinstance(store, LocalStateStore) and store.path == tmp_path / "s.json"


def test_open_store_postgres_needs_the_dsn_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    monkeypatch.delenv("TEAM_PG", raising=False)
    config = StateConfig(backend="postgres", dsn_env="TEAM_PG", workspace="prod")
    with pytest.raises(StateError, match="TEAM_PG"):
        open_store(config)
    monkeypatch.setenv("TEAM_PG", "postgresql://u:pw@db.example/bria")
    store = open_store(config)
    assert isinstance(store, PostgresStateStore) and store.workspace == "prod"
    assert "pw" not in store.describe() and "db.example" in store.describe()


def test_override_flag_and_env_switch_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIA_PG_DSN", "postgresql://localhost/x")
    config = StateConfig(backend="local", path=tmp_path / "s.json")
    monkeypatch.setenv("BRIA_STATE_BACKEND", "postgres")
    assert isinstance(open_store(config), PostgresStateStore)
    assert isinstance(open_store(config, override_backend="local"), LocalStateStore)
    monkeypatch.delenv("BRIA_STATE_BACKEND")
    assert isinstance(open_store(config, override_backend="postgres"), PostgresStateStore)
    with pytest.raises(StateError, match="unknown state backend 'sqlite'"):
        open_store(config, override_backend="sqlite")


def test_open_store_lock_timeout_is_passed_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    path = tmp_path / "s.json"
    first = open_store(StateConfig(path=path))
    first.lock("apply")
    second = open_store(StateConfig(path=path), lock_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(StateError):
        second.lock("plan")
    assert time.monotonic() - started >= 0.25


def test_the_example_in_state_readme_is_a_valid_state() -> None:
    readme = (Path(__file__).parent.parent / "state" / "README.md").read_text()
    example = readme.split("```json\n", 1)[1].split("```", 1)[0]
    document = json.loads(example)
    assert list(state_validator().iter_errors(document)) == []
    assert State.from_dict(document).addresses() == ["project.luna", "dataset.luna_v1", "model.luna_max"]
