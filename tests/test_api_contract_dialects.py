"""The rules that differ by API dialect, each a test against a real `bria emulator serve
--dialect …` (the session's contract servers), through `BriaClient` or, for a request the
client refuses to send, raw HTTP.

legacy = generation A (caption prefixes), mixed = generation B (both families,
training_version, project family lock), fibo = generation C (visual schemas only).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from fixtures_api import TOKEN_A
from fixtures_emulator import b64, make_png
from reconciler.api import errors
from reconciler.api.dialects import DialectError

LUNA = {"project_name": "Luna", "ip_type": "defined_character", "ip_medium": "illustration",
        "ip_name": "Luna", "ip_description": "girl with blue hair"}
FIBO_DIALECTS = pytest.mark.parametrize("api_harness", ["server-mixed", "server-fibo"], indirect=True)
LEGACY_DIALECTS = pytest.mark.parametrize("api_harness", ["server-legacy", "server-mixed"], indirect=True)


def only(*dialects: str):
    return pytest.mark.parametrize("api_harness", [f"server-{d}" for d in dialects], indirect=True)


def _raw(harness) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=harness.base_url, headers={"api_token": TOKEN_A})


def _images(count: int, first_seed: int = 0) -> list[str]:
    return [b64(make_png(256, 256, first_seed + seed)) for seed in range(count)]


def _files(tmp_path, count: int, first_seed: int = 0):
    paths = []
    for seed in range(first_seed, first_seed + count):
        path = tmp_path / f"img-{seed}.png"
        path.write_bytes(make_png(512, 512, seed))
        paths.append(path)
    return paths


async def _poll(fetch, done, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def _fibo_draft(client, name: str = "set") -> dict:
    project = await client.create_project(**LUNA)
    return await client.create_dataset(project["id"], name, family="fibo")


# --- generate_visual_schema -------------------------------------------------------------------


@FIBO_DIALECTS
async def test_generate_visual_schema_needs_5_to_10_images_and_is_deterministic(api_harness):
    async with _raw(api_harness) as raw:
        for count in (4, 11, 0):
            response = await raw.post("/tailored-gen/generate_visual_schema", json={"images": _images(count)})
            assert response.status_code == 400, count
        first = await raw.post("/tailored-gen/generate_visual_schema", json={"images": _images(5)})
        again = await raw.post("/tailored-gen/generate_visual_schema", json={"images": _images(5)[::-1]})
        ten = await raw.post("/tailored-gen/generate_visual_schema", json={"images": _images(10)})
        not_image = await raw.post("/tailored-gen/generate_visual_schema",
                                   json={"images": [b64(b"not an image" * 10)] * 5})
    assert first.status_code == 200 and ten.status_code == 200
    assert isinstance(json.loads(first.json()["visual_schema"]), dict)
    assert again.json() == first.json()
    assert ten.json() != first.json()
    assert not_image.status_code == 415


@only("legacy")
async def test_legacy_has_no_visual_schema_endpoint_field_or_checkpoints(api_harness):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "set")
    assert "visual_schema" not in dataset and "training_version" not in dataset
    async with _raw(api_harness) as raw:
        schema = await raw.post("/tailored-gen/generate_visual_schema", json={"images": _images(5)})
        put = await raw.put(f"/tailored-gen/datasets/{dataset['id']}", json={"visual_schema": "{\"a\": 1}"})
        versioned = await raw.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "x",
                                                                    "training_version": "fibo"})
        fibo_model = await raw.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"],
                                                                  "training_version": "fibo"})
        checkpoints = await raw.get("/tailored-gen/models/1/checkpoints")
    assert (schema.status_code, put.status_code, versioned.status_code, fibo_model.status_code,
            checkpoints.status_code) == (404, 400, 400, 400, 404)
    with pytest.raises(DialectError):   # the client never sends what its dialect lacks
        await client.update_dataset(dataset["id"], visual_schema="{}")


# --- visual_schema on datasets ------------------------------------------------------------------


@FIBO_DIALECTS
async def test_visual_schema_is_json_set_on_drafts_only(api_harness, tmp_path):
    client = api_harness.client()
    dataset = await _fibo_draft(client)
    assert dataset["visual_schema"] is None
    async with _raw(api_harness) as raw:
        for bad in ("not json", "[1, 2]", 42, "{}"):
            response = await raw.put(f"/tailored-gen/datasets/{dataset['id']}", json={"visual_schema": bad})
            assert response.status_code == 400, bad
    schema = await client.generate_visual_schema(_files(tmp_path, 5))
    spaced = json.dumps(json.loads(schema), indent=2)
    updated = await client.update_dataset(dataset["id"], visual_schema=spaced)
    assert json.loads(updated["visual_schema"]) == json.loads(schema)   # stored as the service writes it
    for path in _files(tmp_path, 5):
        await client.upload_image(dataset["id"], path)
    await client.update_dataset(dataset["id"], status="completed")
    with pytest.raises(errors.Conflict):
        await client.update_dataset(dataset["id"], visual_schema=schema)
    clone = await client.clone_dataset(dataset["id"])
    assert (clone["status"], clone["visual_schema"]) == ("draft", updated["visual_schema"])


@FIBO_DIALECTS
async def test_completion_needs_five_images_and_a_schema(api_harness, tmp_path):
    client = api_harness.client()
    dataset = await _fibo_draft(client)
    files = _files(tmp_path, 5)
    for path in files[:4]:
        await client.upload_image(dataset["id"], path)
    with pytest.raises(errors.Conflict):   # 4 images
        await client.update_dataset(dataset["id"], status="completed")
    await client.upload_image(dataset["id"], files[4])
    with pytest.raises(errors.Conflict) as no_schema:   # 5 images, no schema
        await client.update_dataset(dataset["id"], status="completed")
    assert no_schema.value.status == 409
    await client.update_dataset(dataset["id"], visual_schema=await client.generate_visual_schema(files))
    with pytest.raises(errors.Conflict):   # the 5 captions are still pending (emulator's choice)
        await client.update_dataset(dataset["id"], status="completed")
    await client.regenerate_all_captions(dataset["id"])
    await _poll(lambda: client.get_dataset(dataset["id"]), lambda d: d["captions_update_status"] == "completed")
    assert (await client.update_dataset(dataset["id"], status="completed"))["status"] == "completed"


@FIBO_DIALECTS
async def test_captions_pending_until_a_schema_then_deterministic_json(api_harness, tmp_path):
    client = api_harness.client()
    dataset = await _fibo_draft(client)
    files = _files(tmp_path, 5)
    early = await client.upload_image(dataset["id"], files[0])
    assert (early["caption"], early["caption_source"]) == (None, "pending")
    with pytest.raises(errors.Conflict):   # nothing to caption from yet
        await client.regenerate_all_captions(dataset["id"])
    with pytest.raises(errors.Conflict):
        await client.regenerate_image_caption(dataset["id"], early["id"])
    schema = await client.generate_visual_schema(files)
    await client.update_dataset(dataset["id"], visual_schema=schema)
    assert (await client.get_image(dataset["id"], early["id"]))["caption_source"] == "pending"
    late = await client.upload_image(dataset["id"], files[1])
    assert late["caption_source"] == "automatic" and isinstance(json.loads(late["caption"]), dict)
    await client.regenerate_all_captions(dataset["id"])
    await _poll(lambda: client.get_dataset(dataset["id"]), lambda d: d["captions_update_status"] == "completed")
    captioned = await client.get_image(dataset["id"], early["id"])
    assert captioned["caption_source"] == "automatic"
    # The same image under the same schema in another dataset gets the same caption.
    other = await _fibo_draft(client, "other")
    await client.update_dataset(other["id"], visual_schema=schema)
    assert (await client.upload_image(other["id"], files[0]))["caption"] == captioned["caption"]


@FIBO_DIALECTS
async def test_manual_captions_must_be_json(api_harness, tmp_path):
    client = api_harness.client()
    dataset = await _fibo_draft(client)
    files = _files(tmp_path, 5)
    await client.update_dataset(dataset["id"], visual_schema=await client.generate_visual_schema(files))
    image = await client.upload_image(dataset["id"], files[0])
    for bad in ("waving at the viewer", "[1]", "{"):
        with pytest.raises(errors.ValidationError) as caught:
            await client.set_image_caption(dataset["id"], image["id"], bad)
        assert caught.value.status == 400
    manual = await client.set_image_caption(dataset["id"], image["id"], '{ "subject" :  "waving" }')
    assert manual["caption_source"] == "manual"
    assert json.loads(manual["caption"]) == {"subject": "waving"}
    assert manual["caption"] != '{ "subject" :  "waving" }'   # corrected: compare as JSON, not text


# --- prefixes, versions and families ----------------------------------------------------------


@only("fibo")
async def test_fibo_refuses_caption_prefix_generate_prefix_and_training_version(api_harness):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    assert project["training_version"] is None   # generation C's leftover field: unlocked
    dataset = await client.create_dataset(project["id"], "set")
    assert "caption_prefix" not in dataset and "training_version" not in dataset
    async with _raw(api_harness) as raw:
        prefix = await raw.put(f"/tailored-gen/datasets/{dataset['id']}", json={"caption_prefix": "A, "})
        generate = await raw.post("/tailored-gen/generate_prefix", json={"images": _images(2),
                                  "ip_type": "defined_character", "ip_medium": "illustration"})
        versioned = await raw.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "x",
                                                                    "training_version": "fibo"})
        model = await raw.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"],
                                                             "training_version": "fibo"})
    assert (prefix.status_code, generate.status_code, versioned.status_code, model.status_code) == (
        400, 404, 400, 400)
    created = await client.create_model(name="m", dataset_id=dataset["id"], training_version=None,
                                        training_mode="fully_automated")
    assert "training_version" not in created and "generation_prefix" not in created
    with pytest.raises(DialectError):
        await client.create_dataset(project["id"], "legacy", family="legacy")


@only("mixed")
async def test_mixed_training_versions_and_project_family_lock(api_harness, tmp_path):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    assert project["training_version"] is None
    async with _raw(api_harness) as raw:
        default = await raw.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "d"})
        assert default.status_code == 201
        assert default.json()["training_version"] == "max" and default.json()["caption_prefix"]
        assert (await client.get_project(project["id"]))["training_version"] == "max"   # locked by it
        fibo_in_legacy = await raw.post("/tailored-gen/datasets", json={"project_id": project["id"],
                                                                         "name": "f", "training_version": "fibo"})
        assert fibo_in_legacy.status_code == 400
        light = await raw.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "l",
                                                                "training_version": "light"})
        assert light.status_code == 201   # legacy versions share a family
        legacy_id = default.json()["id"]
        assert (await raw.put(f"/tailored-gen/datasets/{legacy_id}", json={"training_version": "fibo"})).status_code == 400
        assert (await raw.put(f"/tailored-gen/datasets/{legacy_id}", json={"visual_schema": '{"a": 1}'})).status_code == 400
    fibo_project = await client.create_project(**{**LUNA, "training_version": "fibo"})
    assert fibo_project["training_version"] == "fibo"
    fibo = await client.create_dataset(fibo_project["id"], "fibo", family="fibo")
    assert (fibo["training_version"], fibo["caption_prefix"], fibo["visual_schema"]) == ("fibo", None, None)
    with pytest.raises(errors.ValidationError):   # a legacy dataset in a fibo project
        await client.create_dataset(fibo_project["id"], "legacy", family="legacy")
    with pytest.raises(errors.ValidationError):   # caption_prefix belongs to legacy datasets
        await client.update_dataset(fibo["id"], caption_prefix="A, ")
    for version, dataset_id in (("fibo", legacy_id), ("max", fibo["id"])):
        with pytest.raises(errors.ValidationError):   # a model only on a dataset of its family
            await client.create_model(name="m", dataset_id=dataset_id, training_version=version,
                                      training_mode="fully_automated")
    fibo_model = await client.create_model(name="m", dataset_id=fibo["id"], training_version="fibo",
                                           training_mode="fully_automated")
    assert (fibo_model["training_version"], fibo_model["generation_prefix"]) == ("fibo", None)
    assert (await client.clone_dataset(fibo["id"]))["training_version"] == "fibo"   # inherited
    # A legacy dataset still completes with one image.
    await client.upload_image(legacy_id, _files(tmp_path, 1)[0])
    assert (await client.update_dataset(legacy_id, status="completed"))["status"] == "completed"


@LEGACY_DIALECTS
async def test_caption_prefix_and_generate_prefix_on_legacy_datasets(api_harness, tmp_path):
    client = api_harness.client()
    project = await client.create_project(**LUNA)
    dataset = await client.create_dataset(project["id"], "set", family="legacy")
    updated = await client.update_dataset(dataset["id"], caption_prefix="A drawing of Luna, ")
    assert updated["caption_prefix"] == "A drawing of Luna, "
    prefix = await client.generate_prefix(_files(tmp_path, 2), ip_type="defined_character",
                                          ip_medium="illustration", ip_name="Luna")
    assert prefix


# --- checkpoints ---------------------------------------------------------------------------------


@FIBO_DIALECTS
async def test_checkpoints_of_expert_models(api_harness, tmp_path):
    client = api_harness.client()
    dataset = await _fibo_draft(client)
    files = _files(tmp_path, 5)
    await client.update_dataset(dataset["id"], visual_schema=await client.generate_visual_schema(files))
    for path in files:
        await client.upload_image(dataset["id"], path)
    await client.update_dataset(dataset["id"], status="completed")
    expert = await client.create_model(name="e", dataset_id=dataset["id"], training_version="fibo",
                                       training_mode="expert")
    automatic = await client.create_model(name="a", dataset_id=dataset["id"], training_version="fibo",
                                          training_mode="fully_automated")
    started = await client.start_training(expert["id"], {"total_training_steps": 1500})
    assert started["training_parameters"]["lr_warmup_steps"] == 100   # FIBO default
    await _poll(lambda: client.get_model(expert["id"]), lambda m: m["status"] == "Completed")
    listed = await client.list_checkpoints(expert["id"])
    assert [c["checkpoint_step"] for c in listed["checkpoints"]] == [500, 1000, 1500]
    assert listed["active_model_version"]
    assert (await client.get_checkpoint(expert["id"], 1000))["checkpoint_step"] == 1000
    with pytest.raises(errors.ValidationError) as active:
        await client.delete_checkpoint(expert["id"], 1500)
    assert active.value.status == 400
    assert await client.delete_checkpoint(expert["id"], 500) is None
    with pytest.raises(errors.NotFound):
        await client.get_checkpoint(expert["id"], 500)
    assert (await client.get_model(expert["id"]))["checkpoint_steps"] == ["1000", "1500"]
    with pytest.raises(errors.ValidationError):   # only expert models have checkpoints
        await client.list_checkpoints(automatic["id"])
