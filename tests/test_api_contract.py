"""Contract tests: every endpoint and every documented error status, driven through
`BriaClient` against the emulator, both in-process (ASGI) and over a real loopback server.

The server is shared by the session, so these tests only look at objects they created.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from fixtures_api import TOKEN_A, TOKEN_B
from reconciler.api import BriaClient, errors

LUNA = {
    "project_name": "StoryCharacter_Luna", "project_description": "Heroine",
    "ip_type": "defined_character", "ip_medium": "illustration",
    "ip_name": "Luna", "ip_description": "girl with blue hair",
}


async def _poll(fetch, done, timeout: float = 10.0, interval: float = 0.05):
    """Call `fetch()` until `done(result)`; returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


async def _dataset_with_image(client: BriaClient, image_path) -> tuple[dict, dict]:
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "Luna set")
    image = await client.upload_image(dataset["id"], image_path, image_name="a.png")
    return dataset, image


# --- projects -------------------------------------------------------------------------------


async def test_projects_crud(api_harness):
    client = api_harness.client()
    created = await client.create_project(**LUNA)
    assert created["project_name"] == "StoryCharacter_Luna"
    assert created["status"] == "active"
    assert isinstance(created["id"], int)
    project_id = created["id"]

    assert (await client.get_project(project_id))["ip_name"] == "Luna"
    assert project_id in [p["id"] for p in await client.list_projects()]

    updated = await client.update_project(project_id, project_name="Luna 2", ip_description="tall")
    assert (updated["project_name"], updated["ip_description"]) == ("Luna 2", "tall")
    assert (await client.get_project(project_id))["project_name"] == "Luna 2"

    with pytest.raises(errors.ValidationError) as fixed_field:
        await client.update_project(project_id, ip_type="other")
    assert fixed_field.value.status == 400

    assert await client.delete_project(project_id) is None
    with pytest.raises(errors.NotFound):
        await client.get_project(project_id)


async def test_create_project_validation_errors(api_harness):
    client = api_harness.client()
    with pytest.raises(errors.ValidationError) as missing:
        await client.create_project(project_name="no medium", ip_type="other")
    assert missing.value.status == 400
    assert missing.value.method == "POST" and missing.value.path == "/tailored-gen/projects"
    assert missing.value.message  # the server's reason, from {"error": ...}
    with pytest.raises(errors.ValidationError):
        await client.create_project(project_name="x", ip_type="icons", ip_medium="photography")
    with pytest.raises(errors.ValidationError):  # defined_character needs ip_name
        await client.create_project(project_name="x", ip_type="defined_character",
                                    ip_medium="illustration", ip_description="d")


async def test_unknown_ids_are_not_found(api_harness):
    client = api_harness.client()
    missing = 987654321
    calls = [
        client.get_project(missing), client.update_project(missing, project_name="x"),
        client.delete_project(missing), client.list_project_datasets(missing),
        client.list_project_models(missing), client.get_dataset(missing),
        client.create_dataset(missing, "d"), client.list_images(missing),
        client.get_model(missing), client.start_training(missing), client.download_model(missing),
    ]
    for call in calls:
        with pytest.raises(errors.NotFound) as caught:
            await call
        assert caught.value.status == 404


# --- authentication and organisations ---------------------------------------------------------


async def test_missing_and_unknown_tokens_are_unauthorized(api_harness):
    unknown_token = "tok-UNKNOWN-not-in-the-list-31337"
    for token in ("", unknown_token):
        client = api_harness.client(token)
        with pytest.raises(errors.Unauthorized) as caught:
            await client.list_projects()
        assert caught.value.status == 401
        assert unknown_token not in str(caught.value)
        assert unknown_token not in repr(caught.value)
    assert client.stats.requests == 1  # 401 is not retried


async def test_another_organisations_ids_are_not_found(api_harness, api_image_file):
    owner, stranger = api_harness.client(TOKEN_A), api_harness.client(TOKEN_B)
    dataset, image = await _dataset_with_image(owner, api_image_file("a.png"))
    model = await owner.create_model(name="m", dataset_id=dataset["id"], training_version="max",
                                     training_mode="fully_automated")
    project_id = dataset["project_id"]
    calls = [
        stranger.get_project(project_id), stranger.update_project(project_id, project_name="x"),
        stranger.delete_project(project_id), stranger.list_project_datasets(project_id),
        stranger.get_dataset(dataset["id"]), stranger.clone_dataset(dataset["id"]),
        stranger.create_dataset(project_id, "sneaky"),
        stranger.get_image(dataset["id"], image["id"]), stranger.delete_image(dataset["id"], image["id"]),
        stranger.get_model(model["id"]), stranger.delete_model(model["id"]),
        stranger.create_model(name="m", dataset_id=dataset["id"], training_version="max",
                              training_mode="fully_automated"),
    ]
    for call in calls:
        with pytest.raises(errors.NotFound):
            await call
    assert project_id not in [p["id"] for p in await stranger.list_projects()]
    assert (await owner.get_project(project_id))["project_name"] == LUNA["project_name"]


# --- datasets and images ----------------------------------------------------------------------


async def test_dataset_lifecycle_and_clone(api_harness, api_image_file):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "Luna set")
    assert (dataset["status"], dataset["captions_update_status"], dataset["upload_type"]) == (
        "draft", "empty", "basic")
    assert "Luna" in dataset["caption_prefix"]
    dataset_id = dataset["id"]
    assert dataset_id in [d["id"] for d in await client.list_datasets()]
    assert [d["id"] for d in await client.list_project_datasets(project["id"])] == [dataset_id]

    with pytest.raises(errors.ValidationError):  # completing needs at least one image
        await client.update_dataset(dataset_id, status="completed")

    renamed = await client.update_dataset(dataset_id, name="Luna v1", caption_prefix="A drawing of Luna, ")
    assert (renamed["name"], renamed["caption_prefix"]) == ("Luna v1", "A drawing of Luna, ")
    for seed in range(3):
        await client.upload_image(dataset_id, api_image_file(f"{seed}.png", seed=seed))
    assert len((await client.get_dataset(dataset_id))["images"]) == 3
    assert len((await client.get_dataset(dataset_id, max_images=2))["images"]) == 2

    completed = await client.update_dataset(dataset_id, status="completed")
    assert completed["status"] == "completed"
    with pytest.raises(errors.Conflict):
        await client.update_dataset(dataset_id, caption_prefix="changed, ")
    with pytest.raises(errors.Conflict):
        await client.update_dataset(dataset_id, status="draft")
    assert (await client.update_dataset(dataset_id, name="still renamable"))["name"] == "still renamable"

    clone = await client.clone_dataset(dataset_id, name="Luna v2")
    assert (clone["status"], clone["name"], clone["project_id"]) == ("draft", "Luna v2", project["id"])
    cloned_images = await client.list_images(clone["id"])
    original_images = await client.list_images(dataset_id)
    assert [i["caption"] for i in cloned_images] == [i["caption"] for i in original_images]
    assert {i["id"] for i in cloned_images}.isdisjoint(i["id"] for i in original_images)
    default_name = await client.clone_dataset(dataset_id)
    assert default_name["name"] == "Copy of still renamable"

    assert await client.delete_dataset(clone["id"]) is None
    with pytest.raises(errors.NotFound):
        await client.get_dataset(clone["id"])


async def test_image_calls(api_harness, api_image_file):
    client = api_harness.client()
    dataset, image = await _dataset_with_image(client, api_image_file("a.png", seed=3))
    dataset_id, image_id = dataset["id"], image["id"]
    assert (image["dataset_id"], image["image_name"], image["caption_source"]) == (dataset_id, "a.png", "automatic")
    assert image["caption"] and image["image_url"] and image["thumbnail_url"]

    assert (await client.get_image(dataset_id, image_id))["id"] == image_id
    assert [i["id"] for i in await client.list_images(dataset_id)] == [image_id]

    manual = await client.set_image_caption(dataset_id, image_id, "waving, full body")
    assert (manual["caption"], manual["caption_source"]) == ("waving, full body", "manual")
    regenerated = await client.regenerate_image_caption(dataset_id, image_id)
    assert (regenerated["caption"], regenerated["caption_source"]) == (image["caption"], "automatic")

    await client.set_image_caption(dataset_id, image_id, "manual again")
    await client.update_dataset(dataset_id, caption_prefix="A sketch of Luna, ")
    await client.regenerate_all_captions(dataset_id)
    assert (await client.get_dataset(dataset_id))["captions_update_status"] == "in_progress"
    settled = await _poll(lambda: client.get_dataset(dataset_id),
                          lambda d: d["captions_update_status"] == "completed")
    assert settled["captions_update_status"] == "completed"
    after = await client.get_image(dataset_id, image_id)
    assert after["caption_source"] == "automatic"
    assert after["caption"] and after["caption"] != "manual again"

    assert await client.delete_image(dataset_id, image_id) is None
    with pytest.raises(errors.NotFound):
        await client.get_image(dataset_id, image_id)


async def test_upload_rejections(api_harness, api_image_file, tmp_path):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    dataset_id = (await client.create_dataset(project["id"], "set"))["id"]
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"these are not the pixels you are looking for" * 20)
    with pytest.raises(errors.ValidationError) as unsupported:
        await client.upload_image(dataset_id, not_an_image)
    assert unsupported.value.status == 415
    with pytest.raises(errors.PreconditionFailed) as tiny:
        await client.upload_image(dataset_id, api_image_file("tiny.png", 100, 100))
    assert tiny.value.status == 412
    with pytest.raises(errors.PreconditionFailed):
        await client.upload_image(dataset_id, api_image_file("mid.png", 512, 512),
                                  increase_resolution=False)
    big = await client.upload_image(dataset_id, api_image_file("big.png", 1024, 1024),
                                    increase_resolution=False)
    assert big["dataset_id"] == dataset_id
    assert client.stats.by_endpoint["POST /tailored-gen/datasets/{id}/images"].requests == 4

    await client.update_dataset(dataset_id, status="completed")
    with pytest.raises(errors.Conflict):
        await client.upload_image(dataset_id, api_image_file("late.png", seed=9))
    for call in (client.set_image_caption(dataset_id, big["id"], "x"),
                 client.delete_image(dataset_id, big["id"]),
                 client.regenerate_all_captions(dataset_id)):
        with pytest.raises(errors.Conflict):
            await call


async def test_generate_prefix(api_harness, api_image_file):
    client = api_harness.client()
    paths = [api_image_file(f"p{seed}.png", seed=seed) for seed in range(3)]
    prefix = await client.generate_prefix(paths, ip_type="defined_character", ip_medium="illustration",
                                          ip_name="Luna")
    assert isinstance(prefix, str) and prefix
    again = await client.generate_prefix(paths, ip_type="defined_character", ip_medium="illustration",
                                         ip_name="Luna")
    assert again == prefix
    with pytest.raises(errors.ValidationError):
        await client.generate_prefix(paths, ip_type="icons", ip_medium="illustration")


# --- models -----------------------------------------------------------------------------------


async def test_model_training_lifecycle(api_harness, api_image_file):
    client = api_harness.client()
    dataset, _ = await _dataset_with_image(client, api_image_file("a.png"))
    dataset_id, project_id = dataset["id"], dataset["project_id"]
    model = await client.create_model(name="Luna max", dataset_id=dataset_id, training_version="max",
                                      training_mode="fully_automated", description="first")
    assert (model["status"], model["project_id"], model["generation_prefix"]) == ("Created", project_id, "")
    model_id = model["id"]
    assert model_id in [m["id"] for m in await client.list_models()]
    assert [m["id"] for m in await client.list_project_models(project_id)] == [model_id]
    assert (await client.update_model(model_id, name="Luna MAX"))["name"] == "Luna MAX"
    assert (await client.get_model(model_id))["description"] == "first"

    with pytest.raises(errors.PreconditionFailed):  # the dataset is still a draft
        await client.start_training(model_id)
    with pytest.raises(errors.ValidationError):  # expert parameters on a fully_automated model
        await client.start_training(model_id, {"learning_rate": 0.0001})
    with pytest.raises(errors.Conflict):  # not Completed yet
        await client.download_model(model_id)

    completed = await client.update_dataset(dataset_id, status="completed")
    started = await client.start_training(model_id)
    assert started["status"] == "InProgress"
    assert started["generation_prefix"] == completed["caption_prefix"]
    for busy_call in (client.start_training(model_id), client.delete_model(model_id),
                      client.delete_project(project_id), client.delete_dataset(dataset_id)):
        with pytest.raises(errors.Conflict):
            await busy_call

    done = await _poll(lambda: client.get_model(model_id), lambda m: m["status"] == "Completed")
    assert done["status"] == "Completed"
    download = await client.download_model(model_id)
    assert download["download_url"] and download["generation_prefix"] == completed["caption_prefix"]
    with pytest.raises(errors.Conflict):  # only InProgress can be stopped
        await client.stop_training(model_id)
    assert await client.delete_model(model_id) is None
    with pytest.raises(errors.NotFound):
        await client.get_model(model_id)


async def test_stop_training_and_expert_parameters(api_harness, api_image_file):
    client = api_harness.client()
    dataset, _ = await _dataset_with_image(client, api_image_file("a.png"))
    await client.update_dataset(dataset["id"], status="completed")
    expert = await client.create_model(name="expert", dataset_id=dataset["id"], training_version="light",
                                       training_mode="expert")
    started = await client.start_training(expert["id"], {"learning_rate": 0.0002, "rank": 16})
    assert started["status"] == "InProgress"
    stopping = await client.stop_training(expert["id"])
    assert stopping["status"] in ("Stopping", "Stopped")
    stopped = await _poll(lambda: client.get_model(expert["id"]), lambda m: m["status"] == "Stopped")
    assert stopped["status"] == "Stopped"
    with pytest.raises(errors.Conflict):  # a stopped model never trains again
        await client.start_training(expert["id"])
    with pytest.raises(errors.ValidationError):
        await client.create_model(name="bad", dataset_id=dataset["id"], training_version="huge",
                                  training_mode="expert")
    assert await client.delete_project(dataset["project_id"]) is None


# --- rate limiting (429) ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["asgi", "server"])
async def test_rate_limited_after_retries_are_exhausted(api_harness_factory, mode):
    harness = api_harness_factory(mode, rate_limit=60, rate_burst=1)
    client = harness.client("tok-rate-limited-0001", max_retries=0)
    await client.list_projects()
    with pytest.raises(errors.RateLimited) as caught:
        await client.list_projects()
    assert caught.value.status == 429
    assert client.stats.rate_limited == 1
    assert (await harness.emulator_stats())["rate_limited"] == 1


@pytest.mark.parametrize("mode", ["asgi", "server"])
async def test_retry_after_header_is_honoured(api_harness_factory, mode):
    # 120/min = one token every 0.5 s; the emulator rounds Retry-After up to 1 s.
    harness = api_harness_factory(mode, rate_limit=120, rate_burst=1, retry_after=True)
    client = harness.client("tok-retry-after-0002", max_retries=3)
    await client.list_projects()
    started = time.monotonic()
    await client.list_projects()
    waited = time.monotonic() - started
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 1
    assert waited >= 0.9  # the header's whole second, not the 5 ms test backoff
