"""Stray images — in a dataset bria manages but not the manifest's content bria put there
(planner/content.py): drift, removed from a draft, left out of a completed dataset's next
version — made for them alone unless bria's models already trained on that version — and
never confused with bria's own uploads whose response was lost."""

from __future__ import annotations

import dataclasses

from fixtures_plan import (applied_state, build_manifest, fake_image, live_of, luna_dataset, luna_model,
                           luna_project, steps_of)
from reconciler.model import LiveView, Op
from reconciler.planner import plan
from reconciler.state.model import ImageRecord, JournalEntry, State

CONSOLE = {"id": 900, "image_name": "holiday.png", "caption": "a beach", "caption_source": "automatic"}


def _manifest(images=None, model=None, **dataset):
    return build_manifest([luna_project()], [luna_dataset(images=images, **dataset)], [model or luna_model()])


def _change(p, addr):
    return next(c for c in p.changes if c.address == addr)


def _with_live_images(state: State, live: LiveView, extra: list[dict], status: str | None = None) -> LiveView:
    """`live` with `extra` images added to the current version of luna_v1 (fetched, with images)."""
    version = state.datasets["luna_v1"].current
    images = [{"id": r.remote_id, "image_name": r.image_name, "caption": r.caption,
               "caption_source": r.caption_source} for r in version.images.values()]
    dataset = {**live.datasets[version.remote_id], "images": images + extra}
    if status:
        dataset["status"] = status
    return dataclasses.replace(live, datasets={**live.datasets, version.remote_id: dataset})


def _with_recorded_stray(state: State, remote_id: int = 900, name: str = "holiday.png") -> State:
    """State recording a stray the way the executor does (import, clone, completion)."""
    record = state.datasets["luna_v1"]
    version = record.current
    images = {**version.images, f"unknown-{remote_id}": ImageRecord(remote_id, name, "x", "automatic")}
    versions = (*record.versions[:-1], dataclasses.replace(version, images=images))
    return state.with_resource("dataset.luna_v1", dataclasses.replace(record, versions=versions))


def _stray_args(step):
    return {k: step.args.to_dict()[k] for k in ("remote_id", "image_name", "copy_index")}


# --- drafts -------------------------------------------------------------------------------------


def test_strays_in_a_draft_are_drift_and_deleted_by_remote_id():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    ds_id = s.datasets["luna_v1"].current.remote_id
    foreign_content = fake_image("other.png")   # a bria-style name, but content bria neither recorded nor wants
    nameless = {"id": 901, "image_name": None, "caption": None, "caption_source": "automatic"}
    borrowed = {"id": 902, "image_name": foreign_content.image_name, "caption": None, "caption_source": "automatic"}
    p = plan(m, s, _with_live_images(s, live_of(s), [CONSOLE, nameless, borrowed]))

    change = _change(p, "dataset.luna_v1")
    assert change.reason == "revert_drift"
    assert [s_.op for s_ in change.steps] == [Op.DELETE_IMAGE] * 3
    assert [_stray_args(s_) for s_ in change.steps] == [
        {"remote_id": 901, "image_name": "", "copy_index": 0},
        {"remote_id": 902, "image_name": foreign_content.image_name, "copy_index": 0},
        {"remote_id": 900, "image_name": "holiday.png", "copy_index": 0}]
    assert {s_.args.dataset_remote_id for s_ in change.steps} == {ds_id}
    assert change.images.delete == ("id 901", foreign_content.image_name, "holiday.png")
    assert p.drift[0].fields["images_added"]["actual"] == sorted(["id 901", foreign_content.image_name, "holiday.png"])
    assert change.before["images"] == 5 and change.after["images"] == 2


def test_strays_go_before_the_draft_is_completed():
    m = _manifest(complete=True, model=luna_model(train=True))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    p = plan(m, s, _with_live_images(s, live_of(s), [CONSOLE]))
    assert steps_of(p, "dataset.luna_v1") == ["delete_image", "complete_dataset"]


def test_strays_of_one_name_get_distinct_copy_indexes():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    twins = [dict(CONSOLE, id=950), dict(CONSOLE, id=940)]
    p = plan(m, s, _with_live_images(s, live_of(s), twins))
    assert [_stray_args(st) for st in _change(p, "dataset.luna_v1").steps] == [
        {"remote_id": 940, "image_name": "holiday.png", "copy_index": 0},
        {"remote_id": 950, "image_name": "holiday.png", "copy_index": 1}]


def test_a_recorded_stray_is_removed_also_without_refresh():
    m = _manifest(complete=False, model=luna_model(train=False))
    s = _with_recorded_stray(applied_state(m, dataset_status="draft", model_status="Created"))
    for live in (live_of(s), None):
        change = _change(plan(m, s, live), "dataset.luna_v1")
        assert [_stray_args(st) for st in change.steps] == [{"remote_id": 900, "image_name": "holiday.png",
                                                             "copy_index": 0}]


def test_a_lost_upload_in_the_journal_is_bria_s_image_not_a_stray():
    kept, dropped = fake_image("kept.png"), fake_image("dropped.png")
    m = _manifest(images=(fake_image("a.png"), kept), complete=False, model=luna_model(train=False))
    s = applied_state(_manifest(images=(fake_image("a.png"),)), dataset_status="draft", model_status="Created")
    ds_id = s.datasets["luna_v1"].current.remote_id
    journal = tuple(JournalEntry(f"j{i}", "upload_image", "dataset.luna_v1", img.image_name, ds_id,
                                 {"sha256": img.sha256}, "2024-01-01T00:00:00+00:00")
                    for i, img in enumerate((kept, dropped)))
    s = dataclasses.replace(s, journal=journal)
    lost = [{"id": 960 + i, "image_name": img.image_name, "caption": None, "caption_source": "automatic"}
            for i, img in enumerate((kept, dropped))]
    p = plan(m, s, _with_live_images(s, live_of(s), lost))
    # `kept` is wanted: adopted by apply's journal resolution, no step. `dropped` is bria's
    # content the manifest no longer wants: deleted by content, like any dropped image.
    change = _change(p, "dataset.luna_v1")
    assert [st.args.to_dict() for st in change.steps] == [{"sha256": dropped.sha256, "image_name": dropped.image_name}]
    assert not any("images_added" in d.fields for d in p.drift)


# --- completed versions ----------------------------------------------------------------------------


def test_strays_in_an_untrained_completed_version_make_a_new_version_without_them():
    m = _manifest(model=luna_model(train=False))
    s = _with_recorded_stray(applied_state(m, model_status="Created"))
    p = plan(m, s, live_of(s))
    change = _change(p, "dataset.luna_v1")
    assert change.reason == "clone_because_stray_images"
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "delete_image", "complete_dataset"]
    assert change.steps[1].args.dataset_remote_id == s.datasets["luna_v1"].current.remote_id
    assert _change(p, "model.luna_max").reason == "replace_because_dataset_changed"
    assert p.drift[0].fields == {"images_added": {"expected": [], "actual": ["holiday.png"]}}


def test_a_console_completed_draft_with_strays_is_renewed_before_anything_trains_on_it():
    m = _manifest(model=luna_model(train=True))
    s = applied_state(m, dataset_status="draft", model_status="Created")
    p = plan(m, s, _with_live_images(s, live_of(s), [CONSOLE], status="completed"))
    assert _change(p, "dataset.luna_v1").reason == "clone_because_stray_images"
    assert steps_of(p, "model.luna_max")[-2:] == ["delete_model", "start_training"]


def test_strays_in_a_trained_version_are_kept_with_a_note_until_the_content_changes():
    m = _manifest()
    s = _with_recorded_stray(applied_state(m, model_status="Completed"))
    p = plan(m, s, live_of(s))
    assert p.changes == ()
    assert p.drift[0].fields["images_added"]["actual"] == ["holiday.png"]
    (note,) = [n for n in p.notes if n.startswith("dataset.luna_v1")]
    assert "holiday.png" in note and "model.luna_max (model" in note and "does not make a new version" in note

    changed = _manifest(images=(fake_image("a.png"), fake_image("b.png", "waving"), fake_image("c.png")))
    p = plan(changed, s, live_of(s))
    change = _change(p, "dataset.luna_v1")
    assert change.reason == "clone_because_dataset_completed"
    assert steps_of(p, "dataset.luna_v1") == ["clone_dataset", "delete_image", "upload_image", "complete_dataset"]
    assert any("leaves them out" in n for n in p.notes)


def test_a_training_bria_starts_on_a_version_with_strays_gets_a_new_version_first():
    s = _with_recorded_stray(applied_state(_manifest(), model_status="Completed"))
    # The model is replaced (another training version): its new training must not see the stray.
    p = plan(_manifest(model=luna_model(training_version="light")), s, live_of(s))
    assert [c.address for c in p.changes] == ["dataset.luna_v1", "model.luna_max"]
    assert _change(p, "dataset.luna_v1").reason == "clone_because_stray_images"
    model = _change(p, "model.luna_max")
    assert model.reason == "replace_because_dataset_changed" and model.after["dataset_version"] == "new"
    assert model.depends_on == ("dataset.luna_v1",)

    # A second model added on the same dataset: both train on the new version.
    both = build_manifest([luna_project()], [luna_dataset()], [luna_model(), luna_model(key="luna_light",
                                                                                       training_version="light")])
    p = plan(both, s, live_of(s))
    assert _change(p, "dataset.luna_v1").reason == "clone_because_stray_images"
    assert {c.address: c.reason for c in p.changes if c.kind == "model"} == {
        "model.luna_light": "create", "model.luna_max": "replace_because_dataset_changed"}


def test_a_model_that_does_not_train_keeps_the_trained_version_as_it_is():
    s = _with_recorded_stray(applied_state(_manifest(), model_status="Completed"))
    p = plan(_manifest(model=luna_model(name="Renamed")), s, live_of(s))
    assert [(c.address, c.reason) for c in p.changes] == [("model.luna_max", "update_in_place")]
