"""Stray images applied for real against the emulator: images put into a dataset in the
console (raw API calls) are removed from a draft, recorded when they slip in before a
completion, and left out of a completed dataset's next version (found on the clone by name
and copy index). Draft strays are also covered by the golden case draft_stray_image_removed
(tests/test_apply_golden.py)."""

from __future__ import annotations

import base64

import httpx

from fixtures_apply import TOKEN, load, luna_images, luna_yaml, make_png, write_case
from fixtures_emulator import EMULATOR_BASE_URL


async def _console(env, method: str, path: str, body=None):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url=EMULATOR_BASE_URL,
                                 headers={"api_token": TOKEN}) as raw:
        response = await raw.request(method, path, json=body)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _upload_stray(env, dataset_id: int, seed: int, name: str = "console.png") -> int:
    body = {"file": base64.b64encode(make_png(256, 256, seed)).decode("ascii"), "image_name": name}
    return (await _console(env, "POST", f"/tailored-gen/datasets/{dataset_id}/images", body))["id"]


async def _image_ids(env, dataset_id: int) -> set[int]:
    return {i["id"] for i in await _console(env, "GET", f"/tailored-gen/datasets/{dataset_id}/images")}


def _current(env):
    return env.current_state().datasets["luna_v1"].current


async def test_stray_images_in_a_draft_are_deleted(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(complete=False, train=False), luna_images(2)))
    assert (await env.converge(manifest)).ok
    draft = _current(env)
    strays = [await _upload_stray(env, draft.remote_id, seed) for seed in (70, 71, 72)]
    plan = await env.plan(manifest)
    assert [s.op.value for s in plan.changes[0].steps] == ["delete_image"] * 3
    result = await env.apply(plan, manifest)
    assert result.ok
    assert await _image_ids(env, draft.remote_id) == {r.remote_id for r in draft.images.values()}
    assert not set(strays) & {r.remote_id for r in _current(env).images.values()}
    assert not (await env.plan(manifest)).has_changes


async def test_stray_images_of_a_console_completed_dataset_are_left_out_of_its_new_version(tmp_path, bria_env):
    env = bria_env()
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(complete=False, train=False), luna_images(2)))
    assert (await env.converge(manifest)).ok
    old = _current(env)
    for seed in (80, 81):   # two strays of one name: each step must find its own copy on the clone
        await _upload_stray(env, old.remote_id, seed)
    await _console(env, "PUT", f"/tailored-gen/datasets/{old.remote_id}", {"status": "completed"})

    manifest = load(write_case(root, luna_yaml(complete=True, train=True), {}))
    plan = await env.plan(manifest)
    dataset = plan.changes[0]
    assert (dataset.address, dataset.reason) == ("dataset.luna_v1", "clone_because_stray_images")
    assert [s.op.value for s in dataset.steps] == ["clone_dataset", "delete_image", "delete_image",
                                                   "complete_dataset"]
    result = await env.apply(plan, manifest)
    assert result.ok, result.outcomes

    new = _current(env)
    assert new.remote_id != old.remote_id and new.status == "completed"
    assert set(new.images) == {i.sha256 for i in manifest.datasets["luna_v1"].images}
    assert await _image_ids(env, new.remote_id) == {r.remote_id for r in new.images.values()}
    assert len(await _image_ids(env, old.remote_id)) == 4          # the old version is kept as it was
    assert env.current_state().models["luna_max"].dataset_remote_id == new.remote_id
    assert not (await env.plan(manifest)).has_changes


async def test_a_stray_that_slips_in_before_completion_is_recorded_then_dropped_with_the_next_change(
        tmp_path, bria_env):
    env = bria_env(training_seconds=600)
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(complete=False, train=False), luna_images(2)))
    assert (await env.converge(manifest)).ok
    manifest = load(write_case(root, luna_yaml(complete=True, train=True), {}))
    plan = await env.plan(manifest)
    stray = await _upload_stray(env, _current(env).remote_id, 90)    # after the plan, before the apply
    assert (await env.apply(plan, manifest)).ok

    completed = _current(env)
    assert completed.status == "completed" and completed.images[f"unknown-{stray}"].image_name == "console.png"
    kept = await env.plan(manifest)        # the model trains on it: kept, and said so
    assert not kept.has_changes
    assert kept.drift[0].fields["images_added"]["actual"] == ["console.png"]
    assert any("model.luna_max" in n and "console.png" in n for n in kept.notes)

    manifest = load(write_case(root, luna_yaml(complete=True, train=True), {"images/luna/new.png": 91}))
    changed = await env.plan(manifest)
    assert [s.op.value for s in changed.changes[0].steps] == ["clone_dataset", "delete_image", "upload_image",
                                                              "complete_dataset"]
    assert (await env.apply(changed, manifest)).ok
    new = _current(env)
    assert set(new.images) == {i.sha256 for i in manifest.datasets["luna_v1"].images}
    assert await _image_ids(env, new.remote_id) == {r.remote_id for r in new.images.values()}
    assert not (await env.plan(manifest)).has_changes


async def test_an_imported_completed_dataset_with_a_console_image_gets_a_version_without_it(tmp_path, bria_env):
    from reconciler.executor.importing import import_resource

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(train=False), luna_images(1)))
    image = manifest.datasets["luna_v1"].images[0]
    project = await _console(env, "POST", "/tailored-gen/projects", {
        "project_name": "StoryCharacter_Luna", "project_description": "Heroine of the picture books",
        "ip_type": "defined_character", "ip_medium": "illustration", "ip_name": "Luna",
        "ip_description": "girl with blue hair"})
    dataset = await _console(env, "POST", "/tailored-gen/datasets", {"project_id": project["id"],
                                                                      "name": "Luna training set"})
    await _console(env, "POST", f"/tailored-gen/datasets/{dataset['id']}/images", {
        "file": base64.b64encode(image.path.read_bytes()).decode("ascii"), "image_name": image.path.name})
    stray = await _upload_stray(env, dataset["id"], 95, name="holiday.png")
    await _console(env, "PUT", f"/tailored-gen/datasets/{dataset['id']}", {"status": "completed"})

    state = env.current_state()
    client = env.client()
    async with client:
        state = await import_resource(manifest, state, client, "project.luna", project["id"])
        state = await import_resource(manifest, state, client, "dataset.luna_v1", dataset["id"])
    env.store.write(state)
    assert set(env.current_state().datasets["luna_v1"].current.images) == {image.sha256, f"unknown-{stray}"}

    plan = await env.plan(manifest)
    assert [(c.address, c.reason) for c in plan.changes] == [("dataset.luna_v1", "clone_because_stray_images"),
                                                             ("model.luna_max", "create")]
    assert (await env.apply(plan, manifest)).ok
    assert set(_current(env).images) == {image.sha256}
    assert not (await env.plan(manifest)).has_changes
