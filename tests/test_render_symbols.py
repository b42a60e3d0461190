"""How changes are classified (symbol and wording), and the format dispatcher."""

from __future__ import annotations

import json

import pytest

from fixtures_render import sample_plan_clone, sample_plan_full_create
from reconciler import render
from reconciler.model import Action, Change, Op, Plan, Step
from reconciler.render import symbols


def _change(actions, reason="create", steps=(), before=None) -> dict:
    return Change("model.m", tuple(Action(a) for a in actions), reason,
                  tuple(Step(Op(o)) for o in steps), before=before).to_dict()


@pytest.mark.parametrize("actions, reason, steps, before, symbol, verb", [
    (["create"], "create", ["create_model"], None, "+", "will be created"),
    (["create", "train"], "create", ["create_model", "start_training"], None, "+",
     "will be created and trained"),
    (["create", "train"], "replace_because_training_failed",
     ["supersede_model", "create_model", "start_training"], {"status": "Failed"}, "+/~",
     "will be replaced by a new model and trained"),
    # the old model vanished in the console: nothing is kept, so it is a plain create
    (["create", "train"], "recreate_because_deleted_outside_bria",
     ["create_model", "start_training"], {"name": "x"}, "+", "will be created and trained"),
    # replaced with its project: the old one is gone remotely (forget), nothing is kept
    (["create", "train"], "recreate_because_project_replaced",
     ["forget", "create_model", "start_training"], {"name": "x"}, "+", "will be created and trained"),
    (["create"], "recreate_because_project_replaced", ["create_dataset"], {"name": "x"}, "+",
     "will be created"),
    (["clone"], "clone_because_dataset_completed", ["clone_dataset"], None, "+/~",
     "will get a new version"),
    (["update"], "update_in_place", ["update_model"], {"name": "a"}, "~", "will be updated in place"),
    (["train"], "start_training_because_train_true", ["start_training"], None, "~", "will start training"),
    (["stop"], "stop_because_train_false", ["stop_training"], None, "~", "will stop training (irreversible"),
    (["delete"], "delete_because_removed_from_manifest", ["delete_model"], None, "-", "will be destroyed"),
    (["stop", "delete"], "delete_because_removed_from_manifest", ["stop_training", "delete_model"],
     None, "-", "will stop training, then be destroyed"),
    (["delete", "create"], "replace_because_ip_type_changed", ["delete_project", "create_project"],
     None, "-/+", "will be destroyed and then created again"),
])
def test_each_kind_of_change_has_its_symbol_and_verb(actions, reason, steps, before, symbol, verb):
    change = _change(actions, reason, steps, before)
    assert symbols.style_of(change).symbol == symbol
    assert symbols.verb_of(change).startswith(verb)


def test_trivial_reasons_are_not_repeated():
    assert symbols.reason_text(_change(["create"], "create")) is None
    assert symbols.reason_text(_change(["update"], "revert_drift")) == "revert drift"


def test_summary_line_wording_is_fixed():
    plan = sample_plan_full_create().to_dict()
    assert symbols.summary_line(plan) == ("Plan: 3 to add, 0 to change, 0 to destroy; "
                                          "200 images to upload; 1 model to train.")


def test_clone_names_its_source_from_the_step_when_before_has_no_id():
    plan = sample_plan_clone().to_dict()
    del plan["changes"][0]["before"]["remote_id"]
    text = render.render_plan(plan, "human")
    assert 'the completed version #12 "Luna training set" is KEPT' in text


def test_dispatcher_renders_every_format_and_rejects_unknown_ones():
    plan = sample_plan_clone().to_dict()
    assert render.render_plan(plan, "human") == render.human.render_plan(plan, color=False)
    assert "\x1b[" in render.render_plan(plan, "human", color=True)
    assert json.loads(render.render_plan(plan, "json")) == plan
    assert render.render_plan(plan, "markdown", json_hint="see plan.json").startswith("### bria plan")
    with pytest.raises(ValueError, match="unknown plan format 'yaml'"):
        render.render_plan(plan, "yaml")
    assert render.FORMATS == ("human", "json", "markdown", "html")
    assert render.render_plan(plan, "html").startswith("<!doctype html>")
    assert Plan.from_dict(json.loads(render.render_plan(plan, "json"))).to_dict() == plan
