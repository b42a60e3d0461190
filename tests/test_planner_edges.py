"""Edge cases of the planner's lifecycle rules (docs/design.md), probed the way a demanding
Terraform user would: what happens between draft and completed, to caption prefixes and
captions, to models in every status, to removals and replacements, to drift, and whether
the plan is the same whatever order the API lists things in."""

from __future__ import annotations

import dataclasses
import json
import random

from fixtures_plan import (LINEAGE, applied_state, build_manifest, fake_image, live_of, live_patched, luna_dataset, luna_model,
                           luna_project, steps_of)
from reconciler.model import Action, LiveView, Op
from reconciler.planner import plan
from reconciler.state.model import DatasetRecord, DatasetVersion, ModelRecord, State, SupersededModel


def _manifest(dataset=None, model=None, project=None, **kw):
    return build_manifest([project or luna_project()], [dataset or luna_dataset(**kw)], [model or luna_model()])


def _change(p, addr):
    return next(c for c in p.changes if c.address == addr)


def _addresses(p):
    return [c.address for c in p.changes]


def steps_of_change(change):
    return [s.op.value for s in change.steps]


_live = live_patched


def _draft_state(m, **kw):
    return applied_state(m, dataset_status="draft", model_status="Created", **kw)


# --- draft → completed, and training on it -------------------------------------------------


def test_draft_then_complete_true_completes_before_training_starts():
    draft = _manifest(complete=False, model=luna_model(train=False))
    s = _draft_state(draft)
    p = plan(_manifest(), s, live_of(s))
    assert _addresses(p) == ["dataset.luna_v1", "model.luna_max"]
    assert steps_of(p, "dataset.luna_v1") == ["complete_dataset"]
    assert steps_of(p, "model.luna_max") == ["start_training"]
    assert _change(p, "model.luna_max").depends_on == ("dataset.luna_v1",)


def test_untrained_model_is_created_on_a_draft_that_stays_draft():
    m = _manifest(complete=False, model=luna_model(train=False))
    p = plan(m, State.empty(LINEAGE), None)
    assert "complete_dataset" not in steps_of(p, "dataset.luna_v1")
    assert steps_of(p, "model.luna_max") == ["create_model"]
    s = _draft_state(m)
    assert plan(m, s, live_of(s)).changes == ()


def test_a_draft_completed_in_the_console_is_drift_when_the_manifest_says_complete_false():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = _draft_state(m)
    ds_id = s.datasets["luna_v1"].current.remote_id
    p = plan(m, s, _live(s, datasets={ds_id: {"status": "completed"}}))
    assert p.changes == ()
    assert p.drift[0].fields["status"] == {"expected": "draft", "actual": "completed"}
    # complete: true: most likely bria's own completion whose response was lost — not drift
    s2 = _draft_state(_manifest(complete=False, model=luna_model(train=False)))
    p = plan(_manifest(model=luna_model(train=False)), s2, _live(s2, datasets={ds_id: {"status": "completed"}}))
    assert p.changes == () and p.drift == ()


# --- caption prefixes --------------------------------------------------------------------------


def test_prefix_changed_on_a_completed_dataset_clones_regenerates_then_resets_manual_captions():
    s = applied_state(_manifest(caption_prefix="A drawing of Luna, "))
    p = plan(_manifest(caption_prefix="A photo of Luna, "), s, live_of(s))
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "set_caption_prefix", "regenerate_all_captions",
                                              "set_caption", "complete_dataset"]
    ds = _change(p, "dataset.luna_v1")
    assert ds.steps[1].args.to_dict() == {"prefix": "A photo of Luna, "} and ds.steps[3].args.caption == "waving"
    assert _change(p, "model.luna_max").reason == "replace_because_dataset_changed"


def test_prefix_removed_from_the_manifest_leaves_the_dataset_prefix_alone():
    old = _manifest(caption_prefix="A drawing of Luna, ", complete=False, model=luna_model(train=False))
    s = _draft_state(old)
    unmanaged = _manifest(complete=False, model=luna_model(train=False))
    assert plan(unmanaged, s, live_of(s)).changes == ()
    ds_id = s.datasets["luna_v1"].current.remote_id
    p = plan(unmanaged, s, _live(s, datasets={ds_id: {"caption_prefix": "Console, "}}))
    assert p.changes == () and p.drift == ()


def test_managed_prefix_changed_in_the_console_is_drift_and_reverted():
    m = _manifest(caption_prefix="A drawing of Luna, ", complete=False, model=luna_model(train=False))
    s = _draft_state(m)
    ds_id = s.datasets["luna_v1"].current.remote_id
    p = plan(m, s, _live(s, datasets={ds_id: {"caption_prefix": "Console, "}}))
    ds = _change(p, "dataset.luna_v1")
    assert ds.reason == "revert_drift"
    assert steps_of(p, "dataset.luna_v1") == ["set_caption_prefix", "regenerate_all_captions", "set_caption"]
    assert p.drift[0].fields == {"caption_prefix": {"expected": "A drawing of Luna, ", "actual": "Console, "}}


def test_auto_prefix_pinned_survives_a_new_version_without_regenerating():
    s = applied_state(_manifest(caption_prefix="auto"))
    p = plan(_manifest(caption_prefix="auto", images=(fake_image("a.png"), fake_image("c.png"))), s, live_of(s))
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "delete_image", "upload_image", "complete_dataset"]


def test_auto_prefix_on_a_new_dataset_is_generated_and_set_before_any_upload():
    p = plan(_manifest(caption_prefix="auto"), State.empty(LINEAGE), None)
    assert steps_of(p, "dataset.luna_v1") == ["create_dataset", "generate_prefix", "set_caption_prefix",
                                              "upload_image", "upload_image", "complete_dataset"]
    assert _change(p, "dataset.luna_v1").steps[2].args.to_dict() == {"prefix": None}   # the pinned, generated one


def test_auto_prefix_on_an_empty_draft_waits_for_images():
    m = _manifest(caption_prefix="auto", images=(), complete=False, model=luna_model(train=False))
    assert steps_of(plan(m, State.empty(LINEAGE), None), "dataset.luna_v1") == ["create_dataset"]


# --- captions ---------------------------------------------------------------------------------


def test_manual_caption_identical_to_live_and_automatic_text_changes_are_not_changes():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = _draft_state(m)
    ds_id = s.datasets["luna_v1"].current.remote_id
    images = [dict(i, caption="reworded by the API") if i["caption_source"] == "automatic" else i
              for i in live_of(s).datasets[ds_id]["images"]]
    assert plan(m, s, _live(s, datasets={ds_id: {"images": images}})).changes == ()


def test_dropped_manual_caption_regenerates_on_a_draft_and_clones_a_completed_dataset():
    dropped = luna_dataset(images=(fake_image("a.png"), fake_image("b.png")))
    s = _draft_state(_manifest(complete=False, model=luna_model(train=False)))
    p = plan(_manifest(dataset=dataclasses.replace(dropped, complete=False), model=luna_model(train=False)),
             s, live_of(s))
    assert steps_of(p, "dataset.luna_v1") == ["regenerate_caption"]
    assert _change(p, "dataset.luna_v1").images.regenerate == ("images/b.png",)
    s = applied_state(_manifest())
    p = plan(_manifest(dataset=dropped), s, live_of(s))
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "regenerate_caption", "complete_dataset"]


def test_caption_made_manual_in_the_console_goes_back_to_automatic():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = _draft_state(m)
    ds_id = s.datasets["luna_v1"].current.remote_id
    images = [dict(i, caption="console", caption_source="manual") if i["caption_source"] == "automatic" else i
              for i in live_of(s).datasets[ds_id]["images"]]
    p = plan(m, s, _live(s, datasets={ds_id: {"images": images}}))
    assert steps_of(p, "dataset.luna_v1") == ["regenerate_caption"]


# --- models ------------------------------------------------------------------------------------


def test_expert_parameters_mode_and_description_changes():
    expert = luna_model(training_mode="expert", training_parameters={"rank": 16, "learning_rate": 1e-4})
    s = applied_state(_manifest(model=expert))
    assert plan(_manifest(model=expert), s, live_of(s)).changes == ()
    more_steps = dataclasses.replace(expert, training_parameters={"rank": 16, "learning_rate": 1e-4,
                                                                  "total_training_steps": 2000})
    change = _change(plan(_manifest(model=more_steps), s, live_of(s)), "model.luna_max")
    assert change.reason == "replace_because_training_parameters_changed"
    assert change.steps[-1].args.parameters["total_training_steps"] == 2000
    mode = _change(plan(_manifest(model=luna_model()), s, live_of(s)), "model.luna_max")
    assert mode.reason == "replace_because_training_mode_changed"
    described = dataclasses.replace(expert, description="now with a description")
    change = _change(plan(_manifest(model=described), s, live_of(s)), "model.luna_max")
    assert change.actions == (Action.UPDATE,) and change.steps[0].args.to_dict() == {
        "fields": {"description": "now with a description"}}


def test_stopping_counts_as_stopped():
    for train, expected in ((True, ["supersede_model", "create_model", "start_training"]), (False, None)):
        m = _manifest(model=luna_model(train=train))
        s = applied_state(m, model_status="Stopping")
        p = plan(m, s, live_of(s))
        if expected:
            assert steps_of(p, "model.luna_max") == expected
            assert _change(p, "model.luna_max").reason == "replace_because_training_stopped"
        else:
            assert p.changes == () and any("left as it is" in n for n in p.notes)


def test_untrained_model_replaced_is_deleted_not_kept():
    s = applied_state(_manifest(model=luna_model(train=False)), model_status="Created")
    old_id = s.models["luna_max"].remote_id
    p = plan(_manifest(images=(fake_image("a.png"),), model=luna_model(train=False)), s, live_of(s))
    change = _change(p, "model.luna_max")
    assert change.actions == (Action.DELETE, Action.CREATE) and not change.protected
    assert steps_of(p, "model.luna_max") == ["supersede_model", "create_model", "delete_model"]
    assert change.steps[2].args.to_dict() == {"remote_id": old_id}
    # a trained model is kept (superseded), never deleted by a replacement
    s = applied_state(_manifest())
    p = plan(_manifest(images=(fake_image("a.png"),)), s, live_of(s))
    assert Op.DELETE_MODEL not in [x.op for x in _change(p, "model.luna_max").steps]


def test_stopping_model_removed_is_deleted_unprotected():
    s = applied_state(_manifest(), model_status="Stopping")
    change = _change(plan(build_manifest([luna_project()], [luna_dataset()]), s, live_of(s)), "model.luna_max")
    assert steps_of_change(change) == ["delete_model"] and not change.protected



def test_trained_model_deleted_outside_is_retrained_and_says_so():
    m = _manifest()
    s = applied_state(m)
    p = plan(m, s, _live(s, models={s.models["luna_max"].remote_id: None}))
    change = _change(p, "model.luna_max")
    assert change.reason == "recreate_and_retrain_because_deleted_outside_bria"
    assert any("TRAINED AGAIN" in n for n in p.notes)
    untrained = _manifest(model=luna_model(train=False))
    s = applied_state(untrained, model_status="Created")
    p = plan(untrained, s, _live(s, models={s.models["luna_max"].remote_id: None}))
    assert _change(p, "model.luna_max").reason == "recreate_because_deleted_outside_bria" and not p.notes


# --- removals and replacements -----------------------------------------------------------------


def test_dataset_removed_with_its_models_deletes_models_first_and_notes_training_blockers():
    s = applied_state(_manifest(), model_status="Created")
    ds_id = s.datasets["luna_v1"].current.remote_id
    old = SupersededModel(777, ds_id, "max", "fully_automated", "InProgress", "replace_because_dataset_changed")
    s = s.with_resource("model.luna_max", dataclasses.replace(s.models["luna_max"], superseded=(old,)))
    live = _live(s, models={777: {"id": 777, "name": "Luna max", "dataset_id": ds_id, "status": "InProgress"}})
    p = plan(build_manifest([luna_project()]), s, live)
    assert _addresses(p) == ["model.luna_max", "dataset.luna_v1"]
    assert any("model(s) 777 train on it" in n for n in p.notes)
    assert not any(str(s.models["luna_max"].remote_id) + " train" in n for n in p.notes)


def test_replaced_project_waits_for_removed_children_inside_it():
    two = build_manifest([luna_project()], [luna_dataset(), luna_dataset(key="old", name="Old")],
                         [luna_model(), luna_model(key="gone", dataset="luna_v1", name="Gone")])
    s = applied_state(two, model_status="InProgress")
    m = build_manifest([luna_project(ip_medium="photography")], [luna_dataset()], [luna_model()])
    p = plan(m, s, live_of(s), allow_destroy="all")
    project = _change(p, "project.luna")
    assert set(project.depends_on) == {"dataset.old", "model.gone"}
    assert _addresses(p).index("project.luna") > _addresses(p).index("model.gone")
    assert steps_of(p, "model.gone") == ["stop_training", "delete_model"]
    assert _change(p, "dataset.luna_v1").reason == "recreate_because_project_replaced"
    assert steps_of(p, "model.luna_max") == ["forget", "create_model", "start_training"]


def test_project_deleted_outside_recreates_everything_inside():
    m = _manifest(caption_prefix="auto")
    s = applied_state(m)
    p = plan(m, s, LiveView({}, {}, {}))
    assert [(c.address, c.reason) for c in p.changes] == [
        ("project.luna", "recreate_because_deleted_outside_bria"),
        ("dataset.luna_v1", "recreate_because_deleted_outside_bria"),
        ("model.luna_max", "recreate_and_retrain_because_deleted_outside_bria")]
    assert steps_of(p, "dataset.luna_v1")[:2] == ["create_dataset", "set_caption_prefix"]   # pinned prefix kept
    assert {d.kind for d in p.drift} == {"deleted"}


# --- determinism -------------------------------------------------------------------------------


def _shuffled(live: LiveView, rng: random.Random) -> LiveView:
    def shuffle(table):
        items = list(table.items())
        rng.shuffle(items)
        out = {}
        for k, v in items:
            v = dict(v)
            if "images" in v:
                v["images"] = rng.sample(v["images"], len(v["images"]))
            fields = list(v.items())
            rng.shuffle(fields)
            out[k] = dict(fields)
        return out
    return LiveView(shuffle(live.projects), shuffle(live.datasets), shuffle(live.models))


def _shuffled_state(state: State, rng: random.Random) -> State:
    def shuffle(table):
        items = list(table.items())
        rng.shuffle(items)
        return dict(items)
    datasets = {k: dataclasses.replace(r, versions=tuple(dataclasses.replace(v, images=shuffle(v.images))
                                                         for v in r.versions))
                for k, r in shuffle(state.datasets).items()}
    return dataclasses.replace(state, projects=shuffle(state.projects), datasets=datasets,
                               models=shuffle(state.models))


def test_same_inputs_in_any_order_give_a_byte_identical_plan():
    images = tuple(fake_image(f"{i}.png", "cap" if i % 3 == 0 else None) for i in range(12))
    old = build_manifest([luna_project()], [luna_dataset(images=images[:8], complete=False),
                                            luna_dataset(key="done", name="Done", images=images[:4])],
                         [luna_model(train=False), luna_model(key="m2", dataset="done", name="M2")])
    s = _draft_state(old)
    s = s.with_resource("dataset.done", dataclasses.replace(
        s.datasets["done"], versions=(dataclasses.replace(s.datasets["done"].current, status="completed"),)))
    ds_id = s.datasets["luna_v1"].current.remote_id
    live = live_of(s)
    extra = [dict(live.datasets[ds_id]["images"][0], id=9001), {"id": 9000, "image_name": "console.png",
                                                               "caption": "x", "caption_source": "manual"}]
    live = _live(s, datasets={ds_id: {"images": [*live.datasets[ds_id]["images"], *extra]}})
    new = build_manifest([luna_project(description="changed")],
                         [luna_dataset(images=images[2:], caption_prefix="New, ", complete=False),
                          luna_dataset(key="done", name="Done", images=images[1:5])],
                         [luna_model(train=False, name="renamed"), luna_model(key="m2", dataset="done", name="M2")])
    expected = json.dumps(plan(new, s, live).to_dict(), sort_keys=False)
    rng = random.Random(7)
    for _ in range(5):
        assert json.dumps(plan(new, _shuffled_state(s, rng), _shuffled(live, rng)).to_dict()) == expected


def test_a_duplicate_copy_of_an_image_is_a_stray_removed_not_confused_with_bria_s_upload():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = _draft_state(m)
    ds_id = s.datasets["luna_v1"].current.remote_id
    images = live_of(s).datasets[ds_id]["images"]
    duplicate = dict(images[0], id=5)     # a lower id than bria's recorded copy
    for order in ([*images, duplicate], [duplicate, *images]):
        p = plan(m, s, _live(s, datasets={ds_id: {"images": order}}))
        change = _change(p, "dataset.luna_v1")
        assert change.reason == "revert_drift"
        assert [st.args.to_dict() for st in change.steps] == [
            {"remote_id": 5, "dataset_remote_id": ds_id, "image_name": images[0]["image_name"], "copy_index": 0}]
        assert p.drift[0].fields["images_added"]["actual"] == [images[0]["image_name"]]


def test_versions_chain_and_superseded_history_do_not_change_the_plan():
    m = _manifest()
    s = applied_state(m)
    record = s.datasets["luna_v1"]
    older = DatasetVersion(50, "Luna set", "completed", None)
    model: ModelRecord = s.models["luna_max"]
    s = s.with_resource("dataset.luna_v1", DatasetRecord(record.project, (older, *record.versions)))
    s = s.with_resource("model.luna_max", dataclasses.replace(
        model, superseded=(SupersededModel(60, 50, "max", "fully_automated", "Completed", "r"),)))
    assert plan(m, s, live_of(s)).changes == ()


def test_train_false_stops_a_training_model_even_when_it_is_replaced():
    s = applied_state(_manifest(), model_status="InProgress")
    p = plan(_manifest(images=(fake_image("a.png"),), model=luna_model(train=False)), s, live_of(s))
    change = _change(p, "model.luna_max")
    assert change.actions == (Action.STOP, Action.CREATE)
    assert steps_of(p, "model.luna_max") == ["stop_training", "supersede_model", "create_model"]
    assert change.steps[0].args.to_dict() == {"remote_id": s.models["luna_max"].remote_id}
    assert change.after["irreversible"] is True and not any("keeps training" in n for n in p.notes)
    # train: true: the superseded model is kept training, and the plan says so
    p = plan(_manifest(images=(fake_image("a.png"),)), s, live_of(s))
    assert steps_of(p, "model.luna_max")[0] == "supersede_model" and any("keeps training" in n for n in p.notes)


def test_project_replacement_names_the_history_it_destroys_and_the_models_that_block_it():
    s = applied_state(_manifest())
    record, model = s.datasets["luna_v1"], s.models["luna_max"]
    s = s.with_resource("dataset.luna_v1", dataclasses.replace(
        record, versions=(DatasetVersion(50, "Luna set", "completed", None), *record.versions)))
    s = s.with_resource("model.luna_max", dataclasses.replace(
        model, superseded=(SupersededModel(60, 50, "max", "fully_automated", "InProgress", "r"),)))
    live = _live(s, models={60: {"id": 60, "dataset_id": 50, "status": "InProgress", "name": "Luna max"}})
    p = plan(_manifest(project=luna_project(ip_type="stylized_scene")), s, live)
    assert any("including 1 superseded model(s) and 1 older dataset version(s)" in n for n in p.notes)
    assert any("refuses to delete a project while its models train (model 60)" in n for n in p.notes)


def test_a_model_still_referencing_a_removed_dataset_is_a_manifest_error_not_a_plan(tmp_path):
    """Removing a dataset while a model still names it never reaches the planner."""
    import shutil
    from pathlib import Path

    from reconciler.manifest import load_manifest

    shutil.copytree(Path(__file__).parent / "golden" / "_images", tmp_path / "images")
    (tmp_path / "bria.yaml").write_text(
        "version: 1\nprojects:\n  luna:\n    name: Luna\n    ip_type: stylized_scene\n    ip_medium: illustration\n"
        "datasets: {}\nmodels:\n  luna_max:\n    dataset: luna_v1\n    name: Luna max\n")
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml")
    assert manifest is None
    assert any("unknown dataset 'luna_v1'" in str(d) for d in diagnostics), [str(d) for d in diagnostics]


def test_removing_a_model_says_its_superseded_predecessors_stay():
    s = applied_state(_manifest(), model_status="Created")
    model = s.models["luna_max"]
    s = s.with_resource("model.luna_max", dataclasses.replace(
        model, superseded=(SupersededModel(60, 50, "max", "fully_automated", "Completed", "r"),)))
    p = plan(build_manifest([luna_project()], [luna_dataset()]), s, live_of(s))
    assert steps_of(p, "model.luna_max") == ["delete_model"] and not _change(p, "model.luna_max").protected
    assert any("superseded model(s) 60 stay in the API" in n for n in p.notes)
