"""FIBO datasets planned and applied for real against the emulator (fibo and mixed
dialects): create with `visual_schema: auto`; images added to a completed dataset (clone,
upload, complete, retrain); a schema change on a draft and on a completed dataset; JSON
caption edits — each followed by a plan with no changes and no duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures_apply import assert_no_duplicates, load, write_case

FIBO_YAML = """\
version: 1
projects:
  luna:
    name: Luna FIBO
    ip_type: defined_character
    ip_medium: illustration
    ip_name: Luna
    ip_description: girl with blue hair
datasets:
  luna_v1:
    project: luna
    name: Luna FIBO set
    visual_schema: {schema}
    images:
      - folder: images/luna
{extra}    complete: {complete}
models:
  luna_fibo:
    dataset: luna_v1
    name: Luna FIBO
    train: {train}
"""


def fibo_yaml(*, schema: str = "auto", complete: bool = True, extra: str = "") -> str:
    return FIBO_YAML.format(schema=schema, complete=str(complete).lower(), train=str(complete).lower(),
                            extra=extra)


def images(count: int, first_seed: int = 1) -> dict[str, int]:
    return {f"images/luna/luna_{i:03d}.png": first_seed + i for i in range(count)}


def _ops(plan) -> dict[str, list[str]]:
    return {change.address: [step.op.value for step in change.steps] for change in plan.changes}


async def _converge_and_settle(env, manifest) -> None:
    result = await env.converge(manifest)
    assert {o.status for o in result.outcomes} <= {"succeeded"}, [(o.address, o.status, o.message) for o in result.outcomes]
    again = await env.plan(manifest)
    assert not again.has_changes, [(c.address, c.reason, _ops(again)[c.address]) for c in again.changes]
    assert_no_duplicates(await env.remote(), env.current_state())


@pytest.mark.parametrize("dialect", ["fibo", "mixed"])
async def test_create_with_visual_schema_auto_then_no_changes(bria_env, tmp_path, dialect):
    env = bria_env(dialect=dialect)
    manifest = load(write_case(tmp_path, fibo_yaml(), images(7)))
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["create_dataset", "generate_visual_schema", "set_visual_schema",
                                             *["upload_image"] * 7, "complete_dataset"]
    assert plan.changes[1].steps[0].args.family == "fibo"
    assert len(plan.changes[1].steps[1].args.shas) == 7      # 5–10: all 7 here
    await _converge_and_settle(env, manifest)
    record = env.current_state().datasets["luna_v1"]
    assert record.pinned_schema and json.loads(record.current.visual_schema) == json.loads(record.pinned_schema)
    captions = [image.caption for image in record.current.images.values()]
    assert all(isinstance(json.loads(c), dict) for c in captions)             # made once, from the schema
    assert {image.caption_source for image in record.current.images.values()} == {"automatic"}
    remote = await env.remote()
    assert remote["models"][0]["status"] in ("InProgress", "Completed")
    assert ("training_version" in remote["models"][0]) == (dialect == "mixed")


async def test_images_added_to_a_completed_fibo_dataset_clone_and_retrain(bria_env, tmp_path):
    env = bria_env(dialect="fibo")
    manifest = load(write_case(tmp_path, fibo_yaml(), images(5)))
    await _converge_and_settle(env, manifest)
    first = env.current_state()
    manifest = load(write_case(tmp_path, fibo_yaml(), images(7)))
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["clone_dataset", "upload_image", "upload_image", "complete_dataset"]
    assert "create_model" in _ops(plan)["model.luna_fibo"] and "start_training" in _ops(plan)["model.luna_fibo"]
    await _converge_and_settle(env, manifest)
    record = env.current_state().datasets["luna_v1"]
    assert len(record.versions) == 2 and len(record.current.images) == 7
    assert record.current.visual_schema == first.datasets["luna_v1"].current.visual_schema   # inherited by the clone
    assert env.current_state().models["luna_fibo"].dataset_remote_id == record.current.remote_id


async def test_schema_change_on_a_draft_regenerates_every_caption(bria_env, tmp_path):
    env = bria_env(dialect="fibo")
    manifest = load(write_case(tmp_path, fibo_yaml(schema="{style: flat, colors: warm}", complete=False),
                               images(5)))
    await _converge_and_settle(env, manifest)
    before = {sha: i.caption for sha, i in env.current_state().datasets["luna_v1"].current.images.items()}
    manifest = load(write_case(tmp_path, fibo_yaml(schema="{style: ink, colors: grey}", complete=False), images(5)))
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["set_visual_schema", "regenerate_all_captions"]
    await _converge_and_settle(env, manifest)
    version = env.current_state().datasets["luna_v1"].current
    assert json.loads(version.visual_schema) == {"style": "ink", "colors": "grey"}
    after = {sha: i.caption for sha, i in version.images.items()}
    assert after.keys() == before.keys() and all(after[sha] != before[sha] for sha in after)
    assert all(json.loads(c)["style"] == "ink" for c in after.values())


async def test_schema_change_on_a_completed_dataset_makes_a_new_version_and_retrains(bria_env, tmp_path):
    env = bria_env(dialect="fibo")
    manifest = load(write_case(tmp_path, fibo_yaml(schema="{style: flat}"), images(5)))
    await _converge_and_settle(env, manifest)
    old_model = env.current_state().models["luna_fibo"].remote_id
    manifest = load(write_case(tmp_path, fibo_yaml(schema="{style: watercolour}"), images(5)))
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["clone_dataset", "set_visual_schema", "regenerate_all_captions",
                                             "complete_dataset"]
    await _converge_and_settle(env, manifest)
    state = env.current_state()
    assert len(state.datasets["luna_v1"].versions) == 2
    assert json.loads(state.datasets["luna_v1"].current.visual_schema) == {"style": "watercolour"}
    assert state.models["luna_fibo"].remote_id != old_model
    assert [s.remote_id for s in state.models["luna_fibo"].superseded] == [old_model]


async def test_json_caption_edits_compare_as_json(bria_env, tmp_path):
    env = bria_env(dialect="fibo")
    extra = ("      - file: extra/wave.png\n"
             "        caption: {subject: Luna waving, view: full body}\n")
    files = {**images(5), "extra/wave.png": 50}
    manifest = load(write_case(tmp_path, fibo_yaml(complete=False, extra=extra), files))
    await _converge_and_settle(env, manifest)   # the API re-serialises the caption: still no change
    wave = next(i for i in env.current_state().datasets["luna_v1"].current.images.values()
                if i.image_name.endswith("wave.png"))
    assert wave.caption_source == "manual" and json.loads(wave.caption) == {"subject": "Luna waving",
                                                                             "view": "full body"}
    # A .json sidecar edit on a draft: one caption set in place.
    sidecar = Path(tmp_path / "images/luna/luna_001.json")
    sidecar.write_text('{\n  "subject": "Luna smiling"\n}\n')
    manifest = load(tmp_path / "bria.yaml")
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["set_caption"]
    await _converge_and_settle(env, manifest)
    # Completed: a caption edit makes a new version.
    sidecar.write_text('{"subject": "Luna laughing"}')
    manifest = load(write_case(tmp_path, fibo_yaml(extra=extra), {}))
    plan = await env.plan(manifest)
    assert _ops(plan)["dataset.luna_v1"] == ["set_caption", "complete_dataset"]   # still a draft: set, then complete
    await _converge_and_settle(env, manifest)
    sidecar.write_text('{"subject": "Luna jumping"}')
    plan = await env.plan(load(tmp_path / "bria.yaml"))
    assert _ops(plan)["dataset.luna_v1"] == ["clone_dataset", "set_caption", "complete_dataset"]
    await _converge_and_settle(env, load(tmp_path / "bria.yaml"))
    version = env.current_state().datasets["luna_v1"].current
    assert any(i.caption and json.loads(i.caption) == {"subject": "Luna jumping"} for i in version.images.values())


async def test_a_family_change_plans_a_new_dataset_and_the_mixed_lock_refuses_it(bria_env, tmp_path):
    env = bria_env(dialect="mixed")
    legacy = fibo_yaml().replace("    visual_schema: auto\n", "    caption_prefix: A drawing of Luna,\n")
    manifest = load(write_case(tmp_path, legacy, images(5)))
    await _converge_and_settle(env, manifest)
    manifest = load(write_case(tmp_path, fibo_yaml(), images(5)))
    plan = await env.plan(manifest)
    change = next(c for c in plan.changes if c.address == "dataset.luna_v1")
    assert change.reason == "recreate_because_family_changed"
    assert [s.op.value for s in change.steps][:3] == ["create_dataset", "generate_visual_schema", "set_visual_schema"]
    assert any("changes family (legacy → fibo)" in text for text in plan.notes)
    result = await env.apply(plan, manifest)
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert [o.address for o in failed] == ["dataset.luna_v1"] and "not compatible" in failed[0].message
    assert_no_duplicates(await env.remote(), env.current_state())


def test_captions_pull_writes_json_sidecars_for_a_fibo_dataset_and_plans_no_change(tmp_path):
    from fixtures_apply import run_bria

    manifest_yaml = fibo_yaml(complete=False).replace("version: 1\n", "version: 1\napi:\n  endpoint: emulator\n"
                                                        "  dialect: fibo\n  emulator: {training_seconds: 0}\n")
    write_case(tmp_path, manifest_yaml, images(5))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path).returncode == 0
    pulled = run_bria("captions", "pull", cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    sidecars = sorted((tmp_path / "images" / "luna").glob("*.json"))
    assert len(sidecars) == 5 and not list((tmp_path / "images" / "luna").glob("*.txt"))
    assert all(isinstance(json.loads(p.read_text()), dict) for p in sidecars)
    plan = run_bria("plan", "--detailed-exitcode", cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout   # pulled automatic captions are not edits
    again = run_bria("captions", "pull", cwd=tmp_path)
    assert again.returncode == 0 and sorted((tmp_path / "images" / "luna").glob("*.json")) == sidecars
