"""The pulled-caption rule (planner.content.wanted_caption), on the pure planner: a caption
equal to the image's automatic caption — now or recorded earlier in the dataset's chain —
is that automatic caption, unchanged; anything else is a manual caption."""

from __future__ import annotations

import dataclasses

from fixtures_plan import (applied_state, build_manifest, fake_image, live_of, luna_dataset, luna_model,
                           luna_project, steps_of)
from reconciler.planner import plan
from reconciler.state.model import DatasetVersion, ImageRecord


def pulled(caption_a: str, *, status: str = "completed"):
    complete = status == "completed"
    model = luna_model(train=complete)
    base = build_manifest([luna_project()], [luna_dataset(complete=complete)], [model])
    state = applied_state(base, dataset_status=status, model_status="Completed" if complete else "Created")
    images = (fake_image("a.png", caption_a), fake_image("b.png", "waving"))
    manifest = build_manifest([luna_project()], [luna_dataset(images, complete=complete)], [model])
    return manifest, state


def test_a_pulled_automatic_caption_is_no_change_on_completed_and_draft():
    for status in ("completed", "draft"):
        manifest, state = pulled("auto caption images/a.png", status=status)
        assert not plan(manifest, state, live_of(state)).has_changes, status


def test_an_edited_pulled_caption_is_one_manual_caption_change():
    manifest, state = pulled("auto caption images/a.png, edited")
    result = plan(manifest, state, live_of(state))
    assert steps_of(result, "dataset.luna_v1").count("set_caption") == 1


def test_an_automatic_caption_recorded_in_an_earlier_version_is_no_change():
    manifest, state = pulled("the old automatic caption")
    record = state.datasets["luna_v1"]
    sha = fake_image("a.png").sha256
    old = dataclasses.replace(record.current, remote_id=1, images={
        sha: ImageRecord(1, "x", "the old automatic caption", "automatic")})
    state = dataclasses.replace(state, datasets={"luna_v1": dataclasses.replace(
        record, versions=(old, *record.versions))})
    assert not plan(manifest, state, live_of(state)).has_changes
    manual = dataclasses.replace(old, images={sha: ImageRecord(1, "x", "the old automatic caption", "manual")})
    state = dataclasses.replace(state, datasets={"luna_v1": dataclasses.replace(
        record, versions=(manual, *record.versions))})
    assert plan(manifest, state, live_of(state)).has_changes       # an old MANUAL caption is a choice
