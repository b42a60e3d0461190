"""The JSON view and the plan JSON Schema: stable output, round trip, schema = model."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from fixtures_render import SAMPLE_PLANS, sample_plan_huge, sample_plan_refused
from reconciler.model import Action, Op, Plan
from reconciler.render import json as json_view

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "reconciler" / "schemas" / "plan.schema.json"


@pytest.fixture(scope="module")
def plan_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("name", sorted(SAMPLE_PLANS))
def test_json_round_trips_through_plan_from_dict(name):
    plan = SAMPLE_PLANS[name]()
    text = json_view.render_plan(plan.to_dict())
    assert text.endswith("}\n")
    again = Plan.from_dict(json.loads(text))
    assert again == plan or again.to_dict() == plan.to_dict()
    assert json_view.render_plan(again.to_dict()) == text            # stable bytes


def test_json_keeps_change_order_and_documented_key_order_and_sorts_the_rest():
    plan = sample_plan_refused().to_dict()
    plan["changes"][0]["before"] = {"status": "Completed", "name": "Old max", "remote_id": 9}
    loaded = json.loads(json_view.render_plan(plan))
    assert list(loaded)[:3] == ["format_version", "state_lineage", "state_serial"]
    assert [c["address"] for c in loaded["changes"]] == ["model.old_max", "project.luna", "model.spare"]
    assert list(loaded["changes"][0])[:3] == ["address", "actions", "reason"]
    assert list(loaded["changes"][0]["before"]) == ["name", "remote_id", "status"]
    assert loaded["changes"][1]["actions"] == ["delete", "create"]    # lists keep their order
    shuffled = dict(reversed(list(plan.items())))
    assert json_view.render_plan(shuffled) == json_view.render_plan(plan)


@pytest.mark.parametrize("name", sorted(SAMPLE_PLANS))
def test_every_sample_plan_matches_the_schema(name, plan_validator):
    errors = list(plan_validator.iter_errors(SAMPLE_PLANS[name]().to_dict()))
    assert errors == []
    assert json_view.validate_plan(SAMPLE_PLANS[name]().to_dict()) == []


def test_a_large_plan_matches_the_schema(plan_validator):
    plan_validator.validate(sample_plan_huge(datasets=3, images=50).to_dict())


def test_schema_enums_are_exactly_the_model_enums():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$defs"]["action"]["enum"] == [a.value for a in Action]
    assert schema["$defs"]["op"]["enum"] == [o.value for o in Op]
    assert schema["properties"]["format_version"]["const"] == Plan(changes=()).format_version


def test_schema_lists_exactly_the_keys_that_to_dict_writes():
    schema = json.loads(SCHEMA_PATH.read_text())
    plan = SAMPLE_PLANS["clone"]().to_dict()
    assert set(plan) == set(schema["required"])
    # `duplicates` is written only when the plan has untracked look-alikes.
    with_duplicates = dataclasses.replace(SAMPLE_PLANS["clone"](), duplicates=(
        {"address": "project.luna", "kind": "project", "name": "Luna", "remote_id": 3,
         "import_command": "bria import project.luna 3", "allowed": False},)).to_dict()
    assert set(schema["properties"]) == set(with_duplicates) == set(plan) | {"duplicates"}
    Draft202012Validator(schema).validate(with_duplicates)
    change = schema["$defs"]["change"]
    assert set(change["properties"]) == set(plan["changes"][0]) == set(change["required"])
    drift = SAMPLE_PLANS["drift"]().to_dict()["drift"][0]
    assert set(schema["$defs"]["drift"]["properties"]) == set(drift)
    assert set(schema["$defs"]["summary"]["properties"]) == set(plan["summary"])
    assert set(schema["$defs"]["image_changes"]["properties"]) == set(plan["changes"][0]["images"])


def _properties(node, path="#"):
    """Every (path, schema) under a `properties` keyword, recursively."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}/{i}")


def test_every_property_has_a_description():
    schema = json.loads(SCHEMA_PATH.read_text())
    missing = []
    for path, sub in _properties(schema):
        target = sub
        if "$ref" in sub and "description" not in sub:
            target = schema["$defs"][sub["$ref"].rsplit("/", 1)[1]]
        if not target.get("description"):
            missing.append(path)
    assert missing == []
    assert all(d.get("description") for d in schema["$defs"].values())


@pytest.mark.parametrize("mutate, where", [
    (lambda p: p["changes"][0].update(actions=["explode"]), "changes/0/actions/0"),
    (lambda p: p["changes"][0]["steps"][0].update(op="rm_rf"), "changes/0/steps/0/op"),
    (lambda p: p["changes"][0].update(address="dataset"), "changes/0/address"),
    (lambda p: p["changes"][0].pop("refused"), "changes/0"),
    (lambda p: p.update(format_version=2), "format_version"),
    (lambda p: p.update(surprise=True), "(plan)"),
    (lambda p: p["drift"].append({"address": "model.x", "kind": "moved", "remote_id": 1,
                                  "fields": {}}), "drift/0/kind"),
])
def test_schema_rejects_malformed_plans(mutate, where):
    plan = copy.deepcopy(SAMPLE_PLANS["clone"]().to_dict())
    mutate(plan)
    errors = json_view.validate_plan(plan)
    assert errors and any(e.startswith(f"{where}:") for e in errors), errors


def test_packaged_schema_is_the_file_in_the_repository():
    assert json_view.plan_schema() == json.loads(SCHEMA_PATH.read_text())
