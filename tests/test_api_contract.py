"""Contract tests: every endpoint and every documented error status, driven through
`BriaClient` against the emulator, in-process (ASGI, legacy) and over a real loopback
`bria emulator serve` in each dialect (legacy, mixed, fibo). In the mixed dialect the
datasets here are FIBO ones (the family a new account meets); the rules that differ by
dialect are in test_api_contract_dialects.py.

Each server is shared by the session, so these tests only look at objects they created.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import time

import pytest
from PIL import Image

from fixtures_api import TOKEN_A, TOKEN_B
from fixtures_emulator import make_png
from reconciler.api import BriaClient, ImageChanged, errors
from reconciler.api.bodies import CHUNK_BYTES

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


def _family(client: BriaClient) -> str:
    return "legacy" if client.dialect == "legacy" else "fibo"


def _model_version(client: BriaClient) -> str:
    return "max" if _family(client) == "legacy" else "fibo"


def _min_images(client: BriaClient) -> int:
    return 1 if _family(client) == "legacy" else 5


def _caption(client: BriaClient, text: str) -> str:
    """A manual caption this dialect accepts: text, or JSON for FIBO datasets."""
    return text if _family(client) == "legacy" else json.dumps({"subject": text})


async def _schema(client: BriaClient, image_path) -> str:
    """A visual schema from 5 copies of the image's folder's samples (FIBO only)."""
    folder = image_path.parent
    paths = []
    for seed in range(5):
        path = folder / f"schema-sample-{seed}.png"
        if not path.exists():
            path.write_bytes(make_png(512, 512, 100 + seed))
        paths.append(path)
    return await client.generate_visual_schema(paths)


async def _dataset_with_image(client: BriaClient, image_path, *, extra: int | None = None) -> tuple[dict, dict]:
    """A project and a draft dataset (with a visual schema when FIBO) holding the image and
    enough more images (`extra`, default: the rest of the completion minimum)."""
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "Luna set", family=_family(client))
    if _family(client) == "fibo":
        await client.update_dataset(dataset["id"], visual_schema=await _schema(client, image_path))
    image = await client.upload_image(dataset["id"], image_path, image_name="a.png")
    for seed in range(_min_images(client) - 1 if extra is None else extra):
        path = image_path.parent / f"more-{seed}.png"
        path.write_bytes(make_png(512, 512, 200 + seed))
        await client.upload_image(dataset["id"], path)
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
    model = await owner.create_model(name="m", dataset_id=dataset["id"], training_version=_model_version(owner),
                                     training_mode="fully_automated")
    project_id = dataset["project_id"]
    calls = [
        stranger.get_project(project_id), stranger.update_project(project_id, project_name="x"),
        stranger.delete_project(project_id), stranger.list_project_datasets(project_id),
        stranger.get_dataset(dataset["id"]), stranger.clone_dataset(dataset["id"]),
        stranger.create_dataset(project_id, "sneaky"),
        stranger.get_image(dataset["id"], image["id"]), stranger.delete_image(dataset["id"], image["id"]),
        stranger.get_model(model["id"]), stranger.delete_model(model["id"]),
        stranger.create_model(name="m", dataset_id=dataset["id"], training_version=_model_version(stranger),
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
    legacy = _family(client) == "legacy"
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "Luna set", family=_family(client))
    assert (dataset["status"], dataset["captions_update_status"], dataset["upload_type"]) == (
        "draft", "empty", "basic")
    if legacy:
        assert "Luna" in dataset["caption_prefix"]
    else:
        assert dataset["visual_schema"] is None
    dataset_id = dataset["id"]
    assert dataset_id in [d["id"] for d in await client.list_datasets()]
    assert [d["id"] for d in await client.list_project_datasets(project["id"])] == [dataset_id]

    too_few = errors.ValidationError if legacy else errors.Conflict   # 400 (gen A) / 409 (gen C)
    with pytest.raises(too_few):  # completing needs at least one image (five for FIBO)
        await client.update_dataset(dataset_id, status="completed")

    if legacy:
        renamed = await client.update_dataset(dataset_id, name="Luna v1", caption_prefix="A drawing of Luna, ")
        assert (renamed["name"], renamed["caption_prefix"]) == ("Luna v1", "A drawing of Luna, ")
    else:
        schema = await _schema(client, api_image_file("s.png"))
        renamed = await client.update_dataset(dataset_id, name="Luna v1", visual_schema=schema)
        assert renamed["name"] == "Luna v1"
        assert json.loads(renamed["visual_schema"]) == json.loads(schema)
    count = max(3, _min_images(client))
    for seed in range(count):
        await client.upload_image(dataset_id, api_image_file(f"{seed}.png", seed=seed))
    assert len((await client.get_dataset(dataset_id))["images"]) == count
    assert len((await client.get_dataset(dataset_id, max_images=2))["images"]) == 2

    completed = await client.update_dataset(dataset_id, status="completed")
    assert completed["status"] == "completed"
    with pytest.raises(errors.Conflict):
        if legacy:
            await client.update_dataset(dataset_id, caption_prefix="changed, ")
        else:
            await client.update_dataset(dataset_id, visual_schema=json.dumps({"style": "changed"}))
    with pytest.raises(errors.Conflict):
        await client.update_dataset(dataset_id, status="draft")
    assert (await client.update_dataset(dataset_id, name="still renamable"))["name"] == "still renamable"

    clone = await client.clone_dataset(dataset_id, name="Luna v2")
    assert (clone["status"], clone["name"], clone["project_id"]) == ("draft", "Luna v2", project["id"])
    if not legacy:
        assert clone["visual_schema"] == completed["visual_schema"]
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
    dataset, image = await _dataset_with_image(client, api_image_file("a.png", seed=3), extra=0)
    dataset_id, image_id = dataset["id"], image["id"]
    assert (image["dataset_id"], image["image_name"], image["caption_source"]) == (dataset_id, "a.png", "automatic")
    assert image["caption"] and image["image_url"] and image["thumbnail_url"]

    assert (await client.get_image(dataset_id, image_id))["id"] == image_id
    assert [i["id"] for i in await client.list_images(dataset_id)] == [image_id]

    manual = await client.set_image_caption(dataset_id, image_id, _caption(client, "waving, full body"))
    assert manual["caption_source"] == "manual"
    assert _same_caption(manual["caption"], _caption(client, "waving, full body"))
    regenerated = await client.regenerate_image_caption(dataset_id, image_id)
    assert (regenerated["caption"], regenerated["caption_source"]) == (image["caption"], "automatic")

    await client.set_image_caption(dataset_id, image_id, _caption(client, "manual again"))
    if _family(client) == "legacy":
        await client.update_dataset(dataset_id, caption_prefix="A sketch of Luna, ")
    else:
        await client.update_dataset(dataset_id, visual_schema=json.dumps({"style": "sketch", "colors": "grey"}))
    await client.regenerate_all_captions(dataset_id)
    assert (await client.get_dataset(dataset_id))["captions_update_status"] == "in_progress"
    settled = await _poll(lambda: client.get_dataset(dataset_id),
                          lambda d: d["captions_update_status"] == "completed")
    assert settled["captions_update_status"] == "completed"
    after = await client.get_image(dataset_id, image_id)
    assert after["caption_source"] == "automatic"
    assert after["caption"] and not _same_caption(after["caption"], _caption(client, "manual again"))
    assert after["caption"] != image["caption"]   # a new prefix or schema gives new captions

    assert await client.delete_image(dataset_id, image_id) is None
    with pytest.raises(errors.NotFound):
        await client.get_image(dataset_id, image_id)


def _same_caption(left: str, right: str) -> bool:
    try:
        return json.loads(left) == json.loads(right)
    except ValueError:
        return left == right


async def test_an_upload_of_bytes_other_than_planned_never_reaches_the_api(api_harness, api_image_file):
    """`upload_image(sha256=…)`: bytes that hash otherwise (the file was rewritten since it
    was planned) raise ImageChanged and the request never completes, so no image is made;
    the planned bytes upload as usual. Over a loopback server, one file smaller than a
    chunk and one of several chunks (cut before the last)."""
    client = api_harness.client()
    dataset, _ = await _dataset_with_image(client, api_image_file("first.png", seed=41), extra=0)
    for name, noisy in (("small.png", False), ("large.png", True)):
        path = api_image_file(name, 512, 512, seed=7)
        if noisy:                                                       # incompressible: several chunks
            path.write_bytes(_noise_png(512, seed=1))
        assert (path.stat().st_size > 2 * CHUNK_BYTES) == noisy
        planned = hashlib.sha256(path.read_bytes()).hexdigest()
        path.write_bytes(_noise_png(512, seed=2) if noisy else make_png(512, 512, seed=8))   # rewritten
        with pytest.raises(ImageChanged, match="changed since it was planned"):
            await client.upload_image(dataset["id"], path, image_name=name, sha256=planned)
        assert name not in [i["image_name"] for i in await client.list_images(dataset["id"])]
        image = await client.upload_image(dataset["id"], path, image_name=name,
                                          sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        assert image["image_name"] == name
    assert len(await client.list_images(dataset["id"])) == 3


def _noise_png(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_upload_rejections(api_harness, api_image_file, tmp_path):
    client = api_harness.client()
    extra = max(0, _min_images(client) - 2)   # with `big` below, just enough to complete
    dataset, _ = await _dataset_with_image(client, api_image_file("first.png", seed=40), extra=extra)
    dataset_id = dataset["id"]
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
    assert client.stats.by_endpoint["POST /tailored-gen/datasets/{id}/images"].requests == 1 + extra + 4

    await client.update_dataset(dataset_id, status="completed")
    with pytest.raises(errors.Conflict):
        await client.upload_image(dataset_id, api_image_file("late.png", seed=9))
    for call in (client.set_image_caption(dataset_id, big["id"], _caption(client, "x")),
                 client.delete_image(dataset_id, big["id"]),
                 client.regenerate_all_captions(dataset_id)):
        with pytest.raises(errors.Conflict):
            await call


async def test_generate_prefix_or_visual_schema(api_harness, api_image_file):
    """Each family's caption helper: deterministic, no side effect."""
    client = api_harness.client()
    if _family(client) == "legacy":
        paths = [api_image_file(f"p{seed}.png", seed=seed) for seed in range(3)]
        prefix = await client.generate_prefix(paths, ip_type="defined_character", ip_medium="illustration",
                                              ip_name="Luna")
        assert isinstance(prefix, str) and prefix
        again = await client.generate_prefix(paths, ip_type="defined_character", ip_medium="illustration",
                                             ip_name="Luna")
        assert again == prefix
        with pytest.raises(errors.ValidationError):
            await client.generate_prefix(paths, ip_type="icons", ip_medium="illustration")
        return
    paths = [api_image_file(f"p{seed}.png", seed=seed) for seed in range(6)]
    schema = await client.generate_visual_schema(paths)
    assert isinstance(json.loads(schema), dict)
    assert await client.generate_visual_schema(list(reversed(paths))) == schema   # a set of images
    assert await client.generate_visual_schema(paths[:5]) != schema


# --- models -----------------------------------------------------------------------------------


async def test_model_training_lifecycle(api_harness, api_image_file):
    client = api_harness.client()
    legacy = _family(client) == "legacy"
    dataset, _ = await _dataset_with_image(client, api_image_file("a.png"))
    dataset_id, project_id = dataset["id"], dataset["project_id"]
    model = await client.create_model(name="Luna max", dataset_id=dataset_id, training_version=_model_version(client),
                                      training_mode="fully_automated", description="first")
    assert (model["status"], model["project_id"]) == ("Created", project_id)
    assert model.get("generation_prefix") == ("" if legacy else None)
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
    if legacy:
        assert started["generation_prefix"] == completed["caption_prefix"]
    for busy_call in (client.start_training(model_id), client.delete_model(model_id),
                      client.delete_project(project_id), client.delete_dataset(dataset_id)):
        with pytest.raises(errors.Conflict):
            await busy_call

    done = await _poll(lambda: client.get_model(model_id), lambda m: m["status"] == "Completed")
    assert done["status"] == "Completed"
    download = await client.download_model(model_id)
    assert download["download_url"]
    if legacy:
        assert download["generation_prefix"] == completed["caption_prefix"]
    else:
        assert download["base_model_name"] == "BRIA-FIBO"
    with pytest.raises(errors.Conflict):  # only InProgress can be stopped
        await client.stop_training(model_id)
    assert await client.delete_model(model_id) is None
    with pytest.raises(errors.NotFound):
        await client.get_model(model_id)


async def test_stop_training_and_expert_parameters(api_harness, api_image_file):
    client = api_harness.client()
    dataset, _ = await _dataset_with_image(client, api_image_file("a.png"))
    await client.update_dataset(dataset["id"], status="completed")
    version = "light" if _family(client) == "legacy" else "fibo"
    expert = await client.create_model(name="expert", dataset_id=dataset["id"], training_version=version,
                                       training_mode="expert")
    started = await client.start_training(expert["id"], {"learning_rate": 0.0002, "rank": 16})
    assert started["status"] == "InProgress"
    defaults = {"legacy": ("constant", 1500), "fibo": ("constant_with_warmup", 750)}[_family(client)]
    parameters = started["training_parameters"]
    assert (parameters["lr_scheduler"], parameters["total_training_steps"]) == defaults
    assert (parameters["learning_rate"], parameters["rank"]) == (0.0002, 16)
    stopping = await client.stop_training(expert["id"])
    assert stopping["status"] in ("Stopping", "Stopped")
    stopped = await _poll(lambda: client.get_model(expert["id"]), lambda m: m["status"] == "Stopped")
    assert stopped["status"] == "Stopped"
    with pytest.raises(errors.Conflict):  # a stopped model never trains again
        await client.start_training(expert["id"])
    with pytest.raises(errors.ValidationError):
        await client.create_model(name="bad", dataset_id=dataset["id"], training_version=version,
                                  training_mode="turbo")
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
