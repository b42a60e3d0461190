"""Unit tests of the pure planner: each lifecycle rule of docs/design.md on small inputs."""

from __future__ import annotations

import dataclasses

import pytest

from fixtures_plan import (LINEAGE, applied_state, build_manifest, fake_image, live_of, live_patched, luna_dataset, luna_model,
                           luna_project, steps_of)
from reconciler.graph import DependencyCycle, order_changes, topological_order
from reconciler.model import Action, Change, Op
from reconciler.planner import PlanError, plan
from reconciler.state.model import JournalEntry, State


def _manifest(dataset=None, model=None, project=None, **kw):
    return build_manifest([project or luna_project()], [dataset or luna_dataset(**kw)], [model or luna_model()])


def _change(p, addr):
    return next(c for c in p.changes if c.address == addr)


_with_live = live_patched


def test_empty_state_creates_everything_in_dependency_order():
    m = _manifest()
    p = plan(m, State.empty(LINEAGE), None)
    assert [c.address for c in p.changes] == ["project.luna", "dataset.luna_v1", "model.luna_max"]
    assert steps_of(p, "dataset.luna_v1") == ["create_dataset", "upload_image", "upload_image", "complete_dataset"]
    assert _change(p, "dataset.luna_v1").depends_on == ("project.luna",)
    model = _change(p, "model.luna_max")
    assert model.actions == (Action.CREATE, Action.TRAIN) and model.depends_on == ("dataset.luna_v1",)
    upload = _change(p, "dataset.luna_v1").steps[2]
    assert upload.args.caption == "waving" and upload.args.rel_path == "images/b.png"
    assert p.summary() == {"add": 3, "change": 0, "destroy": 0, "images_to_upload": 2, "models_to_train": 1,
                           "move": 0, "import": 0, "forget": 0}


def test_applied_manifest_plans_nothing_and_is_deterministic():
    m = _manifest()
    s = applied_state(m)
    p = plan(m, s, live_of(s))
    assert p.changes == () and p.drift == () and not p.has_changes
    assert plan(m, s, live_of(s)).to_dict() == p.to_dict()
    assert p.state_lineage == LINEAGE and p.state_serial == 3


def test_draft_image_add_remove_caption_changes_edit_in_place():
    old = luna_dataset(images=(fake_image("a.png"), fake_image("b.png", "waving"), fake_image("c.png", "sitting")),
                       complete=False)
    s = applied_state(_manifest(dataset=old), dataset_status="draft", model_status="Created")
    new = luna_dataset(images=(fake_image("a.png", "standing"), fake_image("b.png"), fake_image("d.png")),
                       complete=False)
    p = plan(_manifest(dataset=new, model=luna_model(train=False)), s, live_of(s))
    change = _change(p, "dataset.luna_v1")
    assert change.actions == (Action.UPDATE,) and change.reason == "update_in_place"
    assert steps_of(p, "dataset.luna_v1") == ["delete_image", "upload_image", "set_caption", "regenerate_caption"]
    assert change.images.upload == ("images/d.png",) and change.images.caption == ("images/a.png",)
    assert change.images.regenerate == ("images/b.png",) and change.images.delete[0].endswith("-c.png")
    assert "model.luna_max" not in [c.address for c in p.changes]


def test_renamed_file_and_automatic_caption_text_are_not_changes():
    s = applied_state(_manifest(complete=False), dataset_status="draft", model_status="Created")
    renamed = dataclasses.replace(fake_image("a.png"), rel_path="images/renamed.png")
    m = _manifest(dataset=luna_dataset(images=(renamed, fake_image("b.png", "waving")), complete=False),
                  model=luna_model(train=False))
    a_id = s.datasets["luna_v1"].current.images[renamed.sha256].remote_id
    live = live_of(s)
    images = [dict(i, caption="another automatic text") if i["id"] == a_id else i
              for i in live.datasets[s.datasets["luna_v1"].current.remote_id]["images"]]
    live = _with_live(s, datasets={s.datasets["luna_v1"].current.remote_id: {"images": images}})
    assert plan(m, s, live).changes == ()


def test_completed_dataset_change_clones_a_new_version_and_replaces_its_model():
    m = _manifest()
    s = applied_state(m)
    new = luna_dataset(images=(fake_image("a.png", "new caption"), fake_image("c.png")))
    p = plan(_manifest(dataset=new), s, live_of(s))
    ds = _change(p, "dataset.luna_v1")
    assert ds.actions == (Action.CLONE,) and ds.reason == "clone_because_dataset_completed"
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "delete_image", "upload_image", "set_caption",
                                              "complete_dataset"]
    assert ds.steps[0].args.source_remote_id == s.datasets["luna_v1"].current.remote_id
    model = _change(p, "model.luna_max")
    assert model.reason == "replace_because_dataset_changed" and model.depends_on == ("dataset.luna_v1",)
    assert steps_of(p, "model.luna_max") == ["supersede_model", "create_model", "start_training"]
    assert model.before["remote_id"] == s.models["luna_max"].remote_id and not model.protected


def test_completed_dataset_rename_is_in_place_and_keeps_models():
    s = applied_state(_manifest())
    p = plan(_manifest(dataset=luna_dataset(name="Renamed")), s, live_of(s))
    assert [(c.address, c.reason) for c in p.changes] == [("dataset.luna_v1", "update_in_place")]
    assert steps_of(p, "dataset.luna_v1") == ["update_dataset"]


def test_caption_prefix_change_on_draft_regenerates_all_then_resets_manual_captions():
    s = applied_state(_manifest(caption_prefix="A drawing of Luna, ", complete=False), dataset_status="draft",
                      model_status="Created")
    m = _manifest(caption_prefix="A picture of Luna, ", complete=False, model=luna_model(train=False))
    p = plan(m, s, live_of(s))
    assert steps_of(p, "dataset.luna_v1") == ["set_caption_prefix", "regenerate_all_captions", "set_caption"]
    assert _change(p, "dataset.luna_v1").steps[0].args.to_dict() == {"prefix": "A picture of Luna, "}


def test_auto_prefix_is_generated_once_then_pinned():
    images = tuple(fake_image(f"{i}.png") for i in range(10))
    m = _manifest(dataset=luna_dataset(images=images, caption_prefix="auto"))
    p = plan(m, State.empty(LINEAGE), None)
    gen = _change(p, "dataset.luna_v1").steps[1]
    assert gen.op is Op.GENERATE_PREFIX and len(gen.args.shas) == 6
    assert list(gen.args.shas) == sorted(gen.args.shas)
    s = applied_state(m)
    assert plan(m, s, live_of(s)).changes == ()


def test_model_training_version_change_replaces_and_keeps_old():
    s = applied_state(_manifest())
    p = plan(_manifest(model=luna_model(training_version="light")), s, live_of(s))
    model = _change(p, "model.luna_max")
    assert model.reason == "replace_because_training_version_changed"
    assert model.actions == (Action.CREATE, Action.TRAIN) and Op.DELETE_MODEL not in [x.op for x in model.steps]


@pytest.mark.parametrize("status,train,expected", [
    ("Failed", True, ["supersede_model", "create_model", "start_training"]),
    ("Stopped", True, ["supersede_model", "create_model", "start_training"]),
    ("Created", True, ["start_training"]),
    ("InProgress", False, ["stop_training"]),
    ("Failed", False, None),
    ("InProgress", True, None),
    ("Completed", False, None),
])
def test_model_status_rules(status, train, expected):
    m = _manifest(model=luna_model(train=train))
    s = applied_state(m, model_status=status)
    p = plan(m, s, live_of(s))
    if expected is None:
        assert p.changes == ()
    else:
        assert steps_of(p, "model.luna_max") == expected
    if status == "InProgress" and train:
        assert any("model.luna_max: training InProgress" in n for n in p.notes)


def test_stop_is_flagged_irreversible():
    m = _manifest(model=luna_model(train=False))
    s = applied_state(m, model_status="InProgress")
    change = _change(plan(m, s, live_of(s)), "model.luna_max")
    assert change.actions == (Action.STOP,) and change.reason == "stop_because_train_false"
    assert change.after["irreversible"] is True


def test_training_waits_for_an_incomplete_dataset():
    m = _manifest(complete=False)
    p = plan(m, State.empty(LINEAGE), None)
    assert steps_of(p, "model.luna_max") == ["create_model"]
    assert any("not completed" in n for n in p.notes)


@pytest.mark.parametrize("status,allow,refused,steps", [
    ("Completed", (), True, ["delete_model"]),
    ("Completed", ("model.luna_max",), False, ["delete_model"]),
    ("InProgress", ("all",), False, ["stop_training", "delete_model"]),
    ("Created", (), False, ["delete_model"]),
])
def test_removed_model_deletion_is_protected_when_trained(status, allow, refused, steps):
    s = applied_state(_manifest(), model_status=status)
    m = build_manifest([luna_project()], [luna_dataset()], [])
    allow = "all" if allow == ("all",) else frozenset(allow)
    change = _change(plan(m, s, live_of(s), allow_destroy=allow), "model.luna_max")
    assert change.refused is refused and change.protected is (status != "Created")
    assert [x.op.value for x in change.steps] == steps


def test_project_ip_type_change_is_refused_replacement_with_dependents_listed():
    s = applied_state(_manifest())
    m = _manifest(project=luna_project(ip_type="stylized_scene"))
    p = plan(m, s, live_of(s))
    project = _change(p, "project.luna")
    assert project.actions == (Action.DELETE, Action.CREATE) and project.refused and project.protected
    assert project.reason == "replace_because_ip_type_changed"
    assert _change(p, "dataset.luna_v1").reason == "recreate_because_project_replaced"
    assert _change(p, "model.luna_max").depends_on == ("dataset.luna_v1",)
    assert not plan(m, s, live_of(s), allow_destroy={"project.luna"}).refused


def test_removed_project_is_deleted_after_its_children():
    s = applied_state(_manifest(), model_status="Created")
    p = plan(build_manifest(), s, live_of(s))
    assert [c.address for c in p.changes] == ["model.luna_max", "dataset.luna_v1", "project.luna"]
    assert _change(p, "project.luna").refused and _change(p, "project.luna").depends_on == ("dataset.luna_v1",)
    assert _change(p, "dataset.luna_v1").depends_on == ("model.luna_max",)


def test_project_update_in_place_and_console_rename_reverted():
    s = applied_state(_manifest())
    project_id = s.projects["luna"].remote_id
    p = plan(_manifest(project=luna_project(description="New")), s, live_of(s))
    change = _change(p, "project.luna")
    assert change.reason == "update_in_place" and change.steps[0].args.to_dict() == {"fields": {"project_description": "New"}}
    p = plan(_manifest(), s, _with_live(s, projects={project_id: {"project_name": "Console name"}}))
    assert _change(p, "project.luna").reason == "revert_drift"
    assert p.drift[0].fields == {"name": {"expected": "Luna", "actual": "Console name"}}


def test_dataset_deleted_outside_is_recreated_and_its_model_replaced():
    s = applied_state(_manifest(caption_prefix="auto"))
    m = _manifest(caption_prefix="auto")
    p = plan(m, s, _with_live(s, datasets={s.datasets["luna_v1"].current.remote_id: None}))
    ds = _change(p, "dataset.luna_v1")
    assert ds.reason == "recreate_because_deleted_outside_bria"
    assert steps_of(p, "dataset.luna_v1")[:2] == ["create_dataset", "set_caption_prefix"]
    assert ds.steps[1].args.prefix == s.datasets["luna_v1"].pinned_prefix
    assert _change(p, "model.luna_max").reason == "replace_because_dataset_changed"
    assert [(d.address, d.kind) for d in p.drift] == [("dataset.luna_v1", "deleted")]


def test_images_deleted_outside_a_draft_are_reuploaded():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    ds_id = s.datasets["luna_v1"].current.remote_id
    live = live_of(s)
    kept = [i for i in live.datasets[ds_id]["images"] if not i["image_name"].endswith("-a.png")]
    p = plan(m, s, _with_live(s, datasets={ds_id: {"images": kept}}))
    assert steps_of(p, "dataset.luna_v1") == ["upload_image"]
    assert _change(p, "dataset.luna_v1").reason == "revert_drift"
    assert "images_deleted" in p.drift[0].fields


def test_model_deleted_outside_is_recreated_and_renamed_model_renamed_back():
    m = _manifest()
    s = applied_state(m)
    model_id = s.models["luna_max"].remote_id
    p = plan(m, s, _with_live(s, models={model_id: None}))
    assert steps_of(p, "model.luna_max") == ["forget", "create_model", "start_training"]
    p = plan(m, s, _with_live(s, models={model_id: {"name": "renamed in console"}}))
    change = _change(p, "model.luna_max")
    assert change.reason == "revert_drift" and change.steps[0].args.to_dict() == {"fields": {"name": "Luna max"}}


def test_no_refresh_trusts_the_state():
    s = applied_state(_manifest())
    assert plan(_manifest(), s, None).changes == ()


def test_target_and_exclude_select_by_dependency():
    m = build_manifest([luna_project()], [luna_dataset(), luna_dataset(key="other", name="Other")],
                       [luna_model(), luna_model(key="m2", dataset="other", name="M2")])
    empty = State.empty(LINEAGE)
    p = plan(m, empty, None, targets=["model.luna_max"])
    assert [c.address for c in p.changes] == ["project.luna", "dataset.luna_v1", "model.luna_max"]
    p = plan(m, empty, None, excludes=["dataset.other"])
    assert [c.address for c in p.changes] == ["project.luna", "dataset.luna_v1", "model.luna_max"]
    assert p.excludes == ("dataset.other",)
    for bad in ("model.nope", "thing.x"):
        with pytest.raises(PlanError):
            plan(m, empty, None, targets=[bad])


def test_interrupted_apply_is_noted():
    s = applied_state(_manifest())
    s = s.with_journal_entry(JournalEntry("j1", "upload_image", "dataset.luna_v1", "x.png", 5))
    p = plan(_manifest(), s, live_of(s))
    assert p.notes[0].startswith("the previous apply was interrupted") and "1 pending" in p.notes[0]


def test_graph_orders_by_dependency_then_address_and_reports_cycles():
    assert topological_order({"b": [], "a": [], "c": ["b"]}) == ["a", "b", "c"]
    change = Change("dataset.x", (Action.CREATE,), "create", (), depends_on=("model.y",))
    other = Change("model.y", (Action.CREATE,), "create", (), depends_on=("dataset.x",))
    with pytest.raises(DependencyCycle, match="dependency cycle"):
        order_changes([change, other])


def test_planner_and_graph_import_nothing_that_does_io():
    """The planner is pure: no API, no state store, no clock, no randomness, no files."""
    import ast
    from pathlib import Path

    import reconciler

    package = Path(reconciler.__file__).parent
    forbidden = ("reconciler.api", "reconciler.emulator", "reconciler.cli", "reconciler.state.store",
                 "reconciler.state.local", "reconciler.state.postgres", "reconciler.images", "reconciler.manifest",
                 "httpx", "os", "time", "datetime", "random", "uuid", "socket", "subprocess", "asyncio")
    for path in [*sorted((package / "planner").glob("*.py")), package / "graph.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in forbidden), f"{path.name} imports {name}"


def test_pinned_prefix_is_reapplied_when_changed_outside_and_prefix_images_are_spread():
    from reconciler.planner.content import choose_prefix_images

    images = [fake_image(f"{i}.png") for i in range(12)]
    chosen = choose_prefix_images(images)
    ordered = sorted(i.sha256 for i in images)
    assert [i.sha256 for i in chosen] == [ordered[k] for k in (0, 2, 4, 6, 8, 10)]
    assert len(choose_prefix_images(images[:3])) == 3
    m = _manifest(caption_prefix="auto", complete=False, model=luna_model(train=False))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    ds_id = s.datasets["luna_v1"].current.remote_id
    p = plan(m, s, _with_live(s, datasets={ds_id: {"caption_prefix": "Changed in console, "}}))
    assert steps_of(p, "dataset.luna_v1") == ["set_caption_prefix", "regenerate_all_captions", "set_caption"]
    assert _change(p, "dataset.luna_v1").steps[0].args.prefix == s.datasets["luna_v1"].pinned_prefix


def test_removed_dataset_deletes_every_present_version_after_its_models():
    from reconciler.state.model import DatasetVersion

    s = applied_state(_manifest(), model_status="Created")
    record = s.datasets["luna_v1"]
    older = DatasetVersion(42, "old", "completed", None)
    s = s.with_resource("dataset.luna_v1", dataclasses.replace(record, versions=(older, *record.versions)))
    p = plan(build_manifest([luna_project()]), s, _with_live(s, datasets={42: None}))
    assert [c.address for c in p.changes] == ["model.luna_max", "dataset.luna_v1"]
    ds = _change(p, "dataset.luna_v1")
    assert [x.args.remote_id for x in ds.steps] == [record.current.remote_id]   # 42 is gone remotely
    assert ds.reason == "delete_because_removed_from_manifest" and not ds.protected


def test_model_moved_to_another_dataset_or_new_parameters_is_replaced():
    other = luna_dataset(key="other", name="Other")
    m = build_manifest([luna_project()], [luna_dataset(), other], [luna_model()])
    s = applied_state(m)
    moved = build_manifest([luna_project()], [luna_dataset(), other], [luna_model(dataset="other")])
    assert _change(plan(moved, s, live_of(s)), "model.luna_max").reason == "replace_because_dataset_changed"
    expert = build_manifest([luna_project()], [luna_dataset(), other],
                            [luna_model(training_parameters={"rank": 16})])
    change = _change(plan(expert, s, live_of(s)), "model.luna_max")
    assert change.reason == "replace_because_training_parameters_changed"
    assert change.steps[-1].args.to_dict() == {"parameters": {"rank": 16}}


def test_completed_dataset_with_complete_false_is_left_alone_with_a_note():
    s = applied_state(_manifest())
    p = plan(_manifest(complete=False, model=luna_model(train=False)), s, live_of(s))
    assert p.changes == () and any("complete: false" in n for n in p.notes)
