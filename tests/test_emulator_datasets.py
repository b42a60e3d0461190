"""Emulator: datasets — defaults, get with images, the draft/completed rules, delete, clone."""

from __future__ import annotations

import asyncio

import pytest

from fixtures_emulator import emu_completed_dataset, emu_dataset, emu_project, emu_upload


async def test_create_dataset_defaults(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"], name="Luna v1")
    assert dataset["project_id"] == project["id"]
    assert dataset["name"] == "Luna v1"
    assert dataset["status"] == "draft"
    assert dataset["captions_update_status"] == "empty"
    assert dataset["upload_type"] == "basic"
    assert dataset["caption_prefix"] == "An illustration of Luna, "


@pytest.mark.parametrize(("fields", "prefix"), [
    ({"project_name": "Beach", "ip_type": "stylized_scene", "ip_medium": "photography", "ip_name": None,
      "ip_description": None}, "A photograph of a scene in the Beach style, "),
    ({"project_name": "Mugs", "ip_type": "other", "ip_medium": "photography", "ip_name": None,
      "ip_description": None}, "A photograph of Mugs, "),
])
async def test_default_prefix_follows_the_project(emulator_client, fields, prefix):
    client = emulator_client()
    project = await emu_project(client, **fields)
    assert (await emu_dataset(client, project["id"]))["caption_prefix"] == prefix


async def test_create_dataset_needs_an_existing_project(emulator_client):
    client = emulator_client()
    response = await client.post("/tailored-gen/datasets", json={"project_id": 777, "name": "x"})
    assert response.status_code == 404
    response = await client.post("/tailored-gen/datasets", json={"project_id": "1", "name": "x"})
    assert response.status_code == 400
    project = await emu_project(client)
    response = await client.post("/tailored-gen/datasets", json={"project_id": project["id"]})
    assert response.status_code == 400


async def test_list_has_counts_and_get_has_images(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    images = [await emu_upload(client, dataset["id"], seed=seed) for seed in range(3)]
    listed = (await client.get("/tailored-gen/datasets")).json()
    assert listed[0]["images_count"] == 3 and "images" not in listed[0]
    full = (await client.get(f"/tailored-gen/datasets/{dataset['id']}")).json()
    assert [image["id"] for image in full["images"]] == [image["id"] for image in images]
    capped = (await client.get(f"/tailored-gen/datasets/{dataset['id']}", params={"max_images": 2})).json()
    assert len(capped["images"]) == 2 and capped["images_count"] == 3
    for bad in ("0", "201", "many"):
        response = await client.get(f"/tailored-gen/datasets/{dataset['id']}", params={"max_images": bad})
        assert response.status_code == 400, bad


async def test_update_draft_then_complete(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    path = f"/tailored-gen/datasets/{dataset['id']}"
    response = await client.put(path, json={"name": "renamed", "caption_prefix": "A drawing of Luna, "})
    assert response.status_code == 200
    assert response.json()["name"] == "renamed"
    assert response.json()["caption_prefix"] == "A drawing of Luna, "
    response = await client.put(path, json={"status": "completed"})
    assert response.status_code == 400          # needs at least one image
    await emu_upload(client, dataset["id"])
    response = await client.put(path, json={"status": "completed"})
    assert response.status_code == 200 and response.json()["status"] == "completed"


async def test_completed_dataset_is_frozen(emulator_client):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    path = f"/tailored-gen/datasets/{dataset['id']}"
    assert (await client.put(path, json={"caption_prefix": "new, "})).status_code == 409
    response = await client.put(path, json={"status": "draft"})
    assert response.status_code == 409 and "clone" in response.json()["error"]
    response = await client.put(path, json={"name": "still renamable"})
    assert response.status_code == 200 and response.json()["name"] == "still renamable"
    assert (await client.put(path, json={"status": "completed"})).status_code == 200   # no-op
    assert (await client.put(path, json={"status": "finished"})).status_code == 400
    assert (await client.put(path, json={"visual_schema": "{}"})).status_code == 400


async def test_cannot_complete_while_captions_regenerate(emulator_client):
    client = emulator_client(captions_seconds=0.5)  # a window several requests fit in, even on a loaded CI machine
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    await emu_upload(client, dataset["id"])
    path = f"/tailored-gen/datasets/{dataset['id']}"
    assert (await client.put(f"{path}/images")).status_code == 202
    assert (await client.put(path, json={"status": "completed"})).status_code == 409
    await asyncio.sleep(0.55)
    assert (await client.put(path, json={"status": "completed"})).status_code == 200


async def test_delete_dataset(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    image = await emu_upload(client, dataset["id"])
    response = await client.delete(f"/tailored-gen/datasets/{dataset['id']}")
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 404
    assert (await client.get(f"/tailored-gen/datasets/{dataset['id']}/images/{image['id']}")).status_code == 404
    assert (await client.delete(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 404


async def test_delete_dataset_refused_while_its_model_trains(emulator_client):
    client = emulator_client(training_seconds=0.3)
    dataset = await emu_completed_dataset(client)
    model = (await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    await client.post(f"/tailored-gen/models/{model['id']}/start_training")
    assert (await client.delete(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 409
    await asyncio.sleep(0.35)
    assert (await client.delete(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 204


async def test_clone_copies_prefix_and_images_into_a_new_draft(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    source = await emu_dataset(client, project["id"], name="Luna v1")
    await client.put(f"/tailored-gen/datasets/{source['id']}", json={"caption_prefix": "A sketch of Luna, "})
    first = await emu_upload(client, source["id"], seed=1)
    second = await emu_upload(client, source["id"], seed=2)
    await client.put(f"/tailored-gen/datasets/{source['id']}/images/{second['id']}", json={"caption": "waving"})
    await client.put(f"/tailored-gen/datasets/{source['id']}", json={"status": "completed"})

    response = await client.post(f"/tailored-gen/datasets/{source['id']}/clone")
    assert response.status_code == 201
    clone = response.json()
    assert clone["id"] != source["id"] and clone["project_id"] == project["id"]
    assert clone["name"] == "Copy of Luna v1"
    assert clone["status"] == "draft"
    assert clone["caption_prefix"] == "A sketch of Luna, "
    assert clone["images_count"] == 2
    copied = {image["image_name"]: image for image in clone["images"]}
    assert copied[first["image_name"]]["caption"] == first["caption"]
    assert copied[first["image_name"]]["caption_source"] == "automatic"
    assert copied[second["image_name"]]["caption"] == "waving"
    assert copied[second["image_name"]]["caption_source"] == "manual"
    assert not {image["id"] for image in clone["images"]} & {first["id"], second["id"]}
    assert all(image["dataset_id"] == clone["id"] for image in clone["images"])

    named = (await client.post(f"/tailored-gen/datasets/{source['id']}/clone", json={"name": "Luna v2"})).json()
    assert named["name"] == "Luna v2"
    source_now = (await client.get(f"/tailored-gen/datasets/{source['id']}")).json()
    assert source_now["status"] == "completed" and source_now["images_count"] == 2
    # the clone is a real draft: it can change
    assert (await client.delete(f"/tailored-gen/datasets/{clone['id']}/images/{clone['images'][0]['id']}")
            ).status_code == 204


async def test_explicit_null_means_not_given(emulator_client):
    """Optional fields sent as null take their defaults (many JSON clients send null for
    "unset"), rather than being refused with a misleading message."""
    client = emulator_client()
    project = await emu_project(client)
    response = await client.post("/tailored-gen/datasets",
                                 json={"project_id": project["id"], "name": "d", "upload_type": None})
    assert response.status_code == 201 and response.json()["upload_type"] == "basic"
    dataset = response.json()
    path = f"/tailored-gen/datasets/{dataset['id']}"
    response = await client.put(path, json={"status": None, "name": "renamed"})
    assert response.status_code == 200 and response.json()["status"] == "draft"
    image = await emu_upload(client, dataset["id"], increase_resolution=None)
    assert image["caption_source"] == "automatic"
    response = await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"],
                                                               "training_version": None, "training_mode": None})
    assert response.status_code == 201
    assert (response.json()["training_version"], response.json()["training_mode"]) == ("max", "fully_automated")


@pytest.mark.parametrize("name", ["", "   ", 5])
async def test_clone_refuses_a_blank_or_non_text_name(emulator_client, name):
    client = emulator_client()
    project = await emu_project(client)
    source = await emu_dataset(client, project["id"])
    response = await client.post(f"/tailored-gen/datasets/{source['id']}/clone", json={"name": name})
    assert response.status_code == 400
    assert len((await client.get("/tailored-gen/datasets")).json()) == 1
    response = await client.post(f"/tailored-gen/datasets/{source['id']}/clone", json={"name": None})
    assert response.status_code == 201 and response.json()["name"] == "Copy of Luna set"


async def test_delete_dataset_refused_while_its_model_is_stopping(emulator_client):
    client = emulator_client(training_seconds=3600, stopping_seconds=0.2)
    dataset = await emu_completed_dataset(client)
    model = (await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    await client.post(f"/tailored-gen/models/{model['id']}/start_training")
    await client.post(f"/tailored-gen/models/{model['id']}/stop_training")
    assert (await client.delete(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 409
    await asyncio.sleep(0.25)
    assert (await client.delete(f"/tailored-gen/datasets/{dataset['id']}")).status_code == 204
