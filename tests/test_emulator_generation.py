"""The emulator's generation endpoints: v1 tailored text-to-image (legacy models), v2
`/image/generate/tailored` (FIBO models) with its async status service, the generated
files, and the documented errors."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from fixtures_emulator import emu_completed_dataset


async def trained_model(client, training_version: str = "max") -> dict:
    dataset = await emu_completed_dataset(client)
    response = await client.post("/tailored-gen/models", json={
        "name": "m", "dataset_id": dataset["id"], "training_version": training_version})
    assert response.status_code == 201, response.text
    model = response.json()
    response = await client.post(f"/tailored-gen/models/{model['id']}/start_training")
    assert response.status_code == 200, response.text
    return model


def fibo_model(app, org_token: str = "token-a") -> int:
    """A Completed FIBO model, written straight into the store (the legacy emulator has no
    FIBO training; the generation endpoint only reads the model's family and status)."""
    store = app.state.emulator.store
    org = store.organisation(org_token)
    with store.transaction() as db:
        return db.insert("models", {
            "org_id": org, "project_id": 1, "dataset_id": 1, "name": "fibo", "training_version": "fibo",
            "training_mode": "fully_automated", "training_parameters": "{}", "generation_prefix": "",
            "training_started_at": 0.0, "training_ends_at": 0.0, "created_at": 0.0, "updated_at": 0.0})


async def png_of(client, url: str) -> Image.Image:
    response = await client.get(url, headers={"api_token": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


async def test_v1_generates_deterministic_images_per_model_prompt_and_seed(emulator_app, emulator_client):
    client = emulator_client(app=emulator_app(training_seconds=0))
    first, second = await trained_model(client), await trained_model(client)
    body = {"prompt": "Luna waving", "seed": 7, "num_results": 2, "aspect_ratio": "16:9", "sync": True}
    answer = (await client.post(f"/text-to-image/tailored/{first['id']}", json=body)).json()
    assert [entry["seed"] for entry in answer["result"]] == [7, 7]
    images = [await png_of(client, entry["urls"][0]) for entry in answer["result"]]
    assert images[0].size == (256, 144)
    assert images[0].tobytes() != images[1].tobytes()          # two results differ
    again = (await client.post(f"/text-to-image/tailored/{first['id']}", json=body)).json()
    assert (await png_of(client, again["result"][0]["urls"][0])).tobytes() == images[0].tobytes()
    other = (await client.post(f"/text-to-image/tailored/{second['id']}", json=body)).json()
    assert (await png_of(client, other["result"][0]["urls"][0])).tobytes() != images[0].tobytes()


@pytest.mark.parametrize("body,status", [
    ({}, 400),
    ({"prompt": "x", "num_results": 9}, 400),
    ({"prompt": "x", "aspect_ratio": "7:1"}, 400),
    ({"prompt": "x", "colour": "red"}, 400),
    ({"prompt": "an nsfw scene", "content_moderation": True}, 422),
])
async def test_v1_bad_parameters(emulator_app, emulator_client, body, status):
    client = emulator_client(app=emulator_app(training_seconds=0))
    model = await trained_model(client)
    assert (await client.post(f"/text-to-image/tailored/{model['id']}", json=body)).status_code == status


async def test_v1_refuses_a_model_that_is_not_completed_and_unknown_ids(emulator_app, emulator_client):
    client = emulator_client(app=emulator_app(training_seconds=3600))
    model = await trained_model(client)
    response = await client.post(f"/text-to-image/tailored/{model['id']}", json={"prompt": "x"})
    assert response.status_code == 409 and "InProgress" in response.json()["error"]
    assert (await client.post("/text-to-image/tailored/999", json={"prompt": "x"})).status_code == 404


async def test_v2_async_returns_a_status_url_to_poll(emulator_app, emulator_client):
    app = emulator_app(generation_seconds=0.3)
    client = emulator_client(app=app)
    model_id = fibo_model(app)
    response = await client.post("http://emulator/v2/image/generate/tailored",
                                 json={"tailored_model_id": str(model_id), "prompt": "a fox", "seed": 3})
    assert response.status_code == 202, response.text
    status_url = response.json()["status_url"]
    assert (await client.get(status_url)).json()["status"] == "IN_PROGRESS"
    await asyncio.sleep(0.35)
    done = (await client.get(status_url)).json()
    assert done["status"] == "COMPLETED" and done["result"]["seed"] == 3
    await png_of(client, done["result"]["image_url"])


async def test_v2_sync_and_family_rules(emulator_app, emulator_client):
    app = emulator_app(training_seconds=0)
    client = emulator_client(app=app)
    fibo = fibo_model(app)
    legacy = await trained_model(client)
    url = "http://emulator/v2/image/generate/tailored"
    response = await client.post(url, json={"tailored_model_id": fibo, "prompt": "a fox", "sync": True})
    assert response.status_code == 200 and response.json()["result"]["image_url"].endswith(".png")
    assert (await client.post(url, json={"tailored_model_id": legacy["id"], "prompt": "x"})).status_code == 400
    assert (await client.post(f"/text-to-image/tailored/{fibo}", json={"prompt": "x"})).status_code == 400
    assert (await client.post(url, json={"tailored_model_id": fibo})).status_code == 400
    assert (await client.post(url, json={"tailored_model_id": fibo, "structured_prompt": "{}"})).status_code == 400
    assert (await client.post(url, json={"tailored_model_id": fibo, "prompt": "x", "guidance_scale": 9})).status_code == 400
    assert (await client.post(url, json={"tailored_model_id": fibo, "prompt": "nsfw"})).status_code == 422


async def test_generation_is_rate_limited_like_any_endpoint(emulator_app, emulator_client):
    client = emulator_client(app=emulator_app(training_seconds=0, rate_limit=60, rate_burst=1))
    model = await trained_model(client)
    statuses = [(await client.post(f"/text-to-image/tailored/{model['id']}", json={"prompt": "x"})).status_code
                for _ in range(2)]
    assert statuses == [200, 429]
