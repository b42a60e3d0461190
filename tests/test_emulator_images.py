"""Emulator: image upload checks, captions (automatic, manual, regenerate all) and
generate_prefix."""

from __future__ import annotations

import asyncio
import io
import os

import pytest
from PIL import Image

from fixtures_emulator import b64, emu_completed_dataset, emu_dataset, emu_project, emu_upload, make_image, make_png


@pytest.fixture
async def draft(emulator_client):
    """(client, dataset) with a fresh draft dataset; captions regenerate in 0.2 s."""
    client = emulator_client(captions_seconds=0.2)
    project = await emu_project(client)
    return client, await emu_dataset(client, project["id"])


def images_path(dataset: dict) -> str:
    return f"/tailored-gen/datasets/{dataset['id']}/images"


async def test_upload_returns_the_image(draft):
    client, dataset = draft
    response = await client.post(images_path(dataset), json={"file": b64(make_png(300, 400)), "image_name": "a.png"})
    assert response.status_code == 201
    image = response.json()
    assert image["dataset_id"] == dataset["id"] and isinstance(image["id"], int)
    assert image["image_name"] == "a.png"
    assert image["caption_source"] == "automatic"
    assert image["caption"] and not image["caption"].startswith(dataset["caption_prefix"])
    assert image["image_url"] == f"https://emulator.bria.local/images/{image['id']}.png"
    assert image["thumbnail_url"].startswith("https://emulator.bria.local/images/")


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP"])
async def test_jpeg_and_webp_are_accepted(draft, image_format):
    client, dataset = draft
    response = await client.post(images_path(dataset), json={"file": b64(make_image(256, 256, 1, image_format))})
    assert response.status_code == 201


async def test_data_url_prefix_is_tolerated(draft):
    client, dataset = draft
    data_url = "data:image/png;base64," + b64(make_png(256, 256))
    assert (await client.post(images_path(dataset), json={"file": data_url})).status_code == 201


@pytest.mark.parametrize(("body", "status"), [
    ({"file": "%%% not base64 %%%"}, 400),
    ({"file": b64(b"just some text, not an image")}, 415),
    ({"file": b64(make_image(300, 300, 0, "GIF"))}, 415),
    ({"file": b64(make_png(255, 300))}, 412),
    ({"file": b64(make_png(512, 512)), "increase_resolution": False}, 412),
    ({"image_url": "https://example.com/a.png"}, 400),
    ({}, 400),
    ({"file": b64(make_png(256, 256)), "increase_resolution": "yes"}, 400),
])
async def test_upload_rejections(draft, body, status):
    client, dataset = draft
    response = await client.post(images_path(dataset), json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert (await client.get(images_path(dataset))).json() == []


async def test_upload_to_unknown_or_completed_dataset(emulator_client):
    client = emulator_client()
    body = {"file": b64(make_png(100, 100))}     # too small, but the dataset is checked first
    assert (await client.post("/tailored-gen/datasets/999/images", json=body)).status_code == 404
    dataset = await emu_completed_dataset(client)
    assert (await client.post(images_path(dataset), json=body)).status_code == 409


async def test_full_resolution_passes_without_upscaling(draft):
    client, dataset = draft
    body = {"file": b64(make_png(1024, 1100)), "increase_resolution": False}
    assert (await client.post(images_path(dataset), json=body)).status_code == 201


async def test_completed_dataset_refuses_image_changes(emulator_client):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    image = (await client.get(images_path(dataset))).json()[0]
    one = f"{images_path(dataset)}/{image['id']}"
    assert (await client.post(images_path(dataset), json={"file": b64(make_png(256, 256, 9))})).status_code == 409
    assert (await client.put(one, json={"caption": "x"})).status_code == 409
    assert (await client.delete(one)).status_code == 409
    assert (await client.put(images_path(dataset))).status_code == 409


async def test_two_hundred_images_at_most(draft):
    client, dataset = draft
    body = {"file": b64(make_png(256, 256))}   # the same bytes may be uploaded many times
    for _ in range(200):
        assert (await client.post(images_path(dataset), json=body)).status_code == 201
    response = await client.post(images_path(dataset), json=body)
    assert response.status_code == 409
    assert len((await client.get(f"/tailored-gen/datasets/{dataset['id']}")).json()["images"]) == 200


async def test_automatic_captions_are_deterministic(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    first, second = await emu_dataset(client, project["id"]), await emu_dataset(client, project["id"])
    await client.put(f"/tailored-gen/datasets/{second['id']}", json={"caption_prefix": "A sketch of Luna, "})
    captions_first = [(await emu_upload(client, first["id"], seed=seed))["caption"] for seed in range(6)]
    again = [(await emu_upload(client, first["id"], seed=seed))["caption"] for seed in range(6)]
    other_prefix = [(await emu_upload(client, second["id"], seed=seed))["caption"] for seed in range(6)]
    assert captions_first == again
    assert captions_first != other_prefix
    assert len(set(captions_first)) > 1


async def test_caption_edits(draft):
    client, dataset = draft
    image = await emu_upload(client, dataset["id"])
    one = f"{images_path(dataset)}/{image['id']}"
    response = await client.put(one, json={"caption": "waving at the viewer"})
    assert response.status_code == 200
    assert response.json()["caption"] == "waving at the viewer"
    assert response.json()["caption_source"] == "manual"
    response = await client.put(one, json={"regenerate_caption": True})
    assert response.status_code == 200
    assert response.json()["caption"] == image["caption"]
    assert response.json()["caption_source"] == "automatic"
    for body in ({}, {"caption": "x", "regenerate_caption": True}, {"regenerate_caption": False},
                 {"caption": ""}):
        assert (await client.put(one, json=body)).status_code == 400, body
    got = (await client.get(one)).json()
    assert got == response.json()


async def test_delete_image(draft):
    client, dataset = draft
    image = await emu_upload(client, dataset["id"])
    other = await emu_dataset(client, dataset["project_id"], name="other")
    assert (await client.delete(f"{images_path(other)}/{image['id']}")).status_code == 404
    response = await client.delete(f"{images_path(dataset)}/{image['id']}")
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(f"{images_path(dataset)}/{image['id']}")).status_code == 404
    assert (await client.get(images_path(dataset))).json() == []


async def test_regenerate_all_captions_is_asynchronous(draft):
    client, dataset = draft
    manual = await emu_upload(client, dataset["id"], seed=1)
    automatic = await emu_upload(client, dataset["id"], seed=2)
    await client.put(f"{images_path(dataset)}/{manual['id']}", json={"caption": "by hand"})
    await client.put(f"/tailored-gen/datasets/{dataset['id']}", json={"caption_prefix": "A sketch of Luna, "})

    response = await client.put(images_path(dataset))
    assert response.status_code == 202
    assert response.json()["captions_update_status"] == "in_progress"
    during = {i["id"]: i for i in (await client.get(images_path(dataset))).json()}
    assert during[manual["id"]]["caption"] == "by hand"          # nothing changes until the job ends
    assert during[automatic["id"]]["caption"] == automatic["caption"]

    await asyncio.sleep(0.25)
    dataset_now = (await client.get(f"/tailored-gen/datasets/{dataset['id']}")).json()
    assert dataset_now["captions_update_status"] == "completed"
    after = {i["id"]: i for i in dataset_now["images"]}
    assert all(image["caption_source"] == "automatic" for image in after.values())
    assert after[manual["id"]]["caption"] != "by hand"
    # the new captions are those of the new prefix: the same as a fresh upload under it
    fresh = await emu_upload(client, dataset["id"], seed=2)
    assert after[automatic["id"]]["caption"] == fresh["caption"]


async def test_images_are_not_stored(emulator_client, tmp_path):
    """Only metadata is kept: a 1024×1024 noise PNG (~3 MB) adds kilobytes to the database."""
    data_file = tmp_path / "emulator.sqlite"
    client = emulator_client(data_path=data_file)
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    noise = Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG", compress_level=0)
    assert buffer.tell() > 3_000_000
    for _ in range(3):
        assert (await client.post(images_path(dataset), json={"file": b64(buffer.getvalue())})).status_code == 201
    stored = sum(path.stat().st_size for path in tmp_path.iterdir())
    assert stored < 500_000


# --- generate_prefix -------------------------------------------------------------------

PREFIX_PATH = "/tailored-gen/generate_prefix"


def prefix_body(*seeds: int, **fields) -> dict:
    return {"images": [b64(make_png(256, 256, seed)) for seed in seeds], "ip_type": "defined_character",
            "ip_medium": "illustration", "ip_name": "Luna", **fields}


async def test_generate_prefix_is_deterministic(emulator_client):
    client = emulator_client()
    response = await client.post(PREFIX_PATH, json=prefix_body(1, 2, 3))
    assert response.status_code == 200
    prefix = response.json()["prefix"]
    assert prefix.startswith("An illustration of Luna") and prefix.endswith(", ")
    assert (await client.post(PREFIX_PATH, json=prefix_body(3, 2, 1))).json()["prefix"] == prefix
    scene = await client.post(PREFIX_PATH, json=prefix_body(1, ip_type="stylized_scene", ip_medium="photography"))
    assert scene.status_code == 200 and scene.json()["prefix"].startswith("A photograph")
    urls = {"image_urls": ["https://example.com/a.png"], "ip_type": "object_variants", "ip_medium": "illustration"}
    first, second = await client.post(PREFIX_PATH, json=urls), await client.post(PREFIX_PATH, json=urls)
    assert first.status_code == 200 and first.json() == second.json()


@pytest.mark.parametrize(("body", "status"), [
    (prefix_body(1, ip_type="other"), 400),
    (prefix_body(1, ip_type="icons"), 400),
    (prefix_body(), 400),
    (prefix_body(1, 2, 3, 4, 5, 6, 7), 400),
    ({**prefix_body(1), "image_urls": ["https://example.com/a.png"]}, 400),
    (prefix_body(1, ip_medium="oil"), 400),
    (prefix_body(1, ip_type="object_variants", ip_medium="photography"), 400),   # illustration only
    ({**prefix_body(), "images": [b64(b"not an image")]}, 415),
])
async def test_generate_prefix_rejections(emulator_client, body, status):
    assert (await emulator_client().post(PREFIX_PATH, json=body)).status_code == status


def mpo_jpeg(width: int, height: int) -> bytes:
    """A camera-style JPEG with a second (preview) frame; Pillow names its format MPO."""
    first, second = Image.new("RGB", (width, height), (10, 20, 30)), Image.new("RGB", (64, 64), (1, 2, 3))
    buffer = io.BytesIO()
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


async def test_camera_jpeg_with_preview_frame_is_a_jpeg(draft):
    """Many phone and camera .jpg files are multi-picture JPEGs: they are JPEGs, not 415."""
    client, dataset = draft
    assert Image.open(io.BytesIO(mpo_jpeg(300, 300))).format == "MPO"
    response = await client.post(images_path(dataset), json={"file": b64(mpo_jpeg(300, 300))})
    assert response.status_code == 201, response.text
    body = {"images": [b64(mpo_jpeg(300, 300))], "ip_type": "stylized_scene", "ip_medium": "photography"}
    assert (await client.post(PREFIX_PATH, json=body)).status_code == 200


async def test_line_wrapped_base64_is_accepted(draft):
    """RFC 2045 base64 (lines of 76 characters) decodes to the same image."""
    client, dataset = draft
    text = b64(make_png(256, 256, 4))
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    response = await client.post(images_path(dataset), json={"file": wrapped})
    assert response.status_code == 201, response.text
    plain = await client.post(images_path(dataset), json={"file": text})
    assert response.json()["caption"] == plain.json()["caption"]


async def test_regenerate_all_answers_in_progress_even_when_instant(emulator_client):
    """202 with captions_update_status in_progress (the contract), even when the
    emulator's captions_seconds is 0 and a read right after already sees completed."""
    client = emulator_client(captions_seconds=0.0)
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    image = await emu_upload(client, dataset["id"])
    await client.put(f"{images_path(dataset)}/{image['id']}", json={"caption": "by hand"})
    response = await client.put(images_path(dataset))
    assert response.status_code == 202
    assert response.json()["captions_update_status"] == "in_progress"
    after = (await client.get(f"/tailored-gen/datasets/{dataset['id']}")).json()
    assert after["captions_update_status"] == "completed"
    assert after["images"][0]["caption_source"] == "automatic"
