"""Emulator: models — create, the training lifecycle by timestamps, expert parameters,
stop, download, update and delete."""

from __future__ import annotations

import asyncio

import pytest

from fixtures_emulator import emu_completed_dataset, emu_dataset, emu_project, emu_upload

MODELS = "/tailored-gen/models"


async def new_model(client, dataset_id: int, **fields) -> dict:
    response = await client.post(MODELS, json={"name": "Luna max", "dataset_id": dataset_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def status_of(client, model: dict) -> str:
    return (await client.get(f"{MODELS}/{model['id']}")).json()["status"]


async def test_create_model_defaults(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    draft = await emu_dataset(client, project["id"])     # a draft dataset may back a model
    model = await new_model(client, draft["id"], description="first")
    assert model["status"] == "Created"
    assert model["project_id"] == project["id"] and model["dataset_id"] == draft["id"]
    assert model["training_version"] == "max" and model["training_mode"] == "fully_automated"
    assert model["generation_prefix"] == "" and model["description"] == "first"
    assert [m["id"] for m in (await client.get(MODELS)).json()] == [model["id"]]


@pytest.mark.parametrize("fields", [
    {"training_version": "fibo"}, {"training_mode": "fast"}, {"name": ""}, {"model_name": "x"},
])
async def test_invalid_model_is_400(emulator_client, fields):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    response = await client.post(MODELS, json={"name": "m", "dataset_id": dataset["id"], **fields})
    assert response.status_code == 400


async def test_model_needs_an_existing_dataset(emulator_client):
    response = await emulator_client().post(MODELS, json={"name": "m", "dataset_id": 4242})
    assert response.status_code == 404


async def test_training_runs_on_timestamps(emulator_client):
    client = emulator_client(training_seconds=0.5)  # a window several requests fit in, even on a loaded CI machine
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    assert (await client.get(f"{MODELS}/{model['id']}/download")).status_code == 409
    response = await client.post(f"{MODELS}/{model['id']}/start_training")
    assert response.status_code == 200
    assert response.json()["status"] == "InProgress"
    assert response.json()["generation_prefix"] == dataset["caption_prefix"]
    assert (await client.post(f"{MODELS}/{model['id']}/start_training")).status_code == 409
    assert (await client.get(f"{MODELS}/{model['id']}/download")).status_code == 409
    await asyncio.sleep(0.55)
    assert await status_of(client, model) == "Completed"
    download = await client.get(f"{MODELS}/{model['id']}/download")
    assert download.status_code == 200
    assert set(download.json()) == {"download_url", "base_model_name", "generation_prefix"}
    assert download.json()["generation_prefix"] == dataset["caption_prefix"]
    assert (await client.post(f"{MODELS}/{model['id']}/start_training")).status_code == 409


async def test_start_needs_a_completed_dataset(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    await emu_upload(client, dataset["id"])
    model = await new_model(client, dataset["id"])
    assert (await client.post(f"{MODELS}/{model['id']}/start_training")).status_code == 412
    assert await status_of(client, model) == "Created"


async def test_failure_rate_one_always_fails(emulator_client):
    client = emulator_client(training_seconds=0.05, failure_rate=1.0)
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    await client.post(f"{MODELS}/{model['id']}/start_training")
    await asyncio.sleep(0.1)
    assert await status_of(client, model) == "Failed"
    assert (await client.get(f"{MODELS}/{model['id']}/download")).status_code == 409


async def test_failures_are_reproducible_with_a_seed(emulator_client):
    async def outcomes() -> list[str]:
        client = emulator_client(training_seconds=0.0, failure_rate=0.5, seed=7)
        dataset = await emu_completed_dataset(client)
        result = []
        for _ in range(12):
            model = await new_model(client, dataset["id"])
            await client.post(f"{MODELS}/{model['id']}/start_training")
            result.append(await status_of(client, model))
        return result

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert set(first) == {"Completed", "Failed"}


async def test_expert_parameters_only_for_expert_models(emulator_client):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    automatic = await new_model(client, dataset["id"])
    response = await client.post(f"{MODELS}/{automatic['id']}/start_training", json={"rank": 64})
    assert response.status_code == 400
    assert await status_of(client, automatic) == "Created"
    expert = await new_model(client, dataset["id"], training_mode="expert")
    response = await client.post(f"{MODELS}/{expert['id']}/start_training",
                                 json={"rank": 64, "learning_rate": 0.0002, "lr_scheduler": "cosine"})
    assert response.status_code == 200
    params = response.json()["training_parameters"]
    assert params["rank"] == 64 and params["learning_rate"] == 0.0002 and params["lr_scheduler"] == "cosine"
    assert params["total_training_steps"] == 1500


@pytest.mark.parametrize("params", [
    {"learning_rate": 0.01}, {"learning_rate": 1e-7}, {"total_training_steps": 0}, {"total_training_steps": 5001},
    {"rank": 2}, {"rank": 512}, {"lr_scheduler": "exponential"}, {"checkpoint_interval": 50},
    {"checkpoint_interval": 600, "total_training_steps": 500}, {"lr_warmup_steps": 1001}, {"rank": 64.5},
    {"max_train_steps": 100},
])
async def test_expert_parameter_ranges(emulator_client, params):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    expert = await new_model(client, dataset["id"], training_mode="expert")
    assert (await client.post(f"{MODELS}/{expert['id']}/start_training", json=params)).status_code == 400
    assert await status_of(client, expert) == "Created"


async def test_stop_training(emulator_client):
    client = emulator_client(training_seconds=3600, stopping_seconds=0.5)  # a window several requests fit in, even on a loaded CI machine
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    assert (await client.post(f"{MODELS}/{model['id']}/stop_training")).status_code == 409   # Created
    await client.post(f"{MODELS}/{model['id']}/start_training")
    response = await client.post(f"{MODELS}/{model['id']}/stop_training")
    assert response.status_code == 200 and response.json()["status"] == "Stopping"
    assert (await client.post(f"{MODELS}/{model['id']}/stop_training")).status_code == 409
    assert (await client.delete(f"{MODELS}/{model['id']}")).status_code == 409
    await asyncio.sleep(0.55)
    assert await status_of(client, model) == "Stopped"
    assert (await client.post(f"{MODELS}/{model['id']}/stop_training")).status_code == 409
    assert (await client.post(f"{MODELS}/{model['id']}/start_training")).status_code == 409
    assert (await client.delete(f"{MODELS}/{model['id']}")).status_code == 204


async def test_update_model_name_and_description_only(emulator_client):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    response = await client.put(f"{MODELS}/{model['id']}", json={"name": "renamed", "description": "d"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("renamed", "d")
    for body in ({"training_version": "light"}, {"training_mode": "expert"}, {"dataset_id": 1}):
        assert (await client.put(f"{MODELS}/{model['id']}", json=body)).status_code == 400


async def test_delete_model(emulator_client):
    client = emulator_client(training_seconds=0.5)  # a window several requests fit in, even on a loaded CI machine
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    await client.post(f"{MODELS}/{model['id']}/start_training")
    assert (await client.delete(f"{MODELS}/{model['id']}")).status_code == 409
    await asyncio.sleep(0.55)
    response = await client.delete(f"{MODELS}/{model['id']}")
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(f"{MODELS}/{model['id']}")).status_code == 404


@pytest.mark.parametrize(("params", "expected"), [
    ({"total_training_steps": 300}, {"total_training_steps": 300, "checkpoint_interval": 300}),
    ({"total_training_steps": 300, "checkpoint_interval": 150}, {"checkpoint_interval": 150}),
    ({"total_training_steps": 2000}, {"checkpoint_interval": 500}),
])
async def test_checkpoint_interval_default_fits_the_steps(emulator_client, params, expected):
    """An expert who only shortens training must not be refused over a default they never sent."""
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    expert = await new_model(client, dataset["id"], training_mode="expert")
    response = await client.post(f"{MODELS}/{expert['id']}/start_training", json=params)
    assert response.status_code == 200, response.text
    assert expert_subset(response.json()["training_parameters"], expected) == expected


def expert_subset(params: dict, expected: dict) -> dict:
    return {key: params[key] for key in expected}


@pytest.mark.parametrize("params", [
    {"total_training_steps": 50, "checkpoint_interval": 100},     # beyond the last step
    {"total_training_steps": 50, "checkpoint_interval": 50},      # below the minimum of 100
])
async def test_checkpoint_interval_is_at_most_the_total_steps(emulator_client, params):
    client = emulator_client()
    dataset = await emu_completed_dataset(client)
    expert = await new_model(client, dataset["id"], training_mode="expert")
    assert (await client.post(f"{MODELS}/{expert['id']}/start_training", json=params)).status_code == 400


async def test_start_and_stop_answer_the_transition_even_when_instant(emulator_client):
    """start_training answers InProgress and stop_training Stopping (the contract), even
    when the emulator's knobs make the next state due at once."""
    client = emulator_client(training_seconds=0.0, stopping_seconds=0.0)
    dataset = await emu_completed_dataset(client)
    model = await new_model(client, dataset["id"])
    response = await client.post(f"{MODELS}/{model['id']}/start_training")
    assert response.json()["status"] == "InProgress"
    assert await status_of(client, model) == "Completed"

    slow = emulator_client(training_seconds=3600, stopping_seconds=0.0)
    dataset = await emu_completed_dataset(slow)
    model = await new_model(slow, dataset["id"])
    await slow.post(f"{MODELS}/{model['id']}/start_training")
    response = await slow.post(f"{MODELS}/{model['id']}/stop_training")
    assert response.status_code == 200 and response.json()["status"] == "Stopping"
    assert await status_of(slow, model) == "Stopped"


async def test_completed_expert_model_lists_its_checkpoints(emulator_client):
    """Expert trainings save a checkpoint every checkpoint_interval steps (research §5.6,
    §5.8); fully automated ones save none. Steps are strings, as documented."""
    client = emulator_client(training_seconds=0.1)
    dataset = await emu_completed_dataset(client)
    expert = await new_model(client, dataset["id"], training_mode="expert")
    automatic = await new_model(client, dataset["id"])
    started = await client.post(f"{MODELS}/{expert['id']}/start_training",
                                json={"total_training_steps": 350, "checkpoint_interval": 100})
    assert started.json()["checkpoint_steps"] == []
    await client.post(f"{MODELS}/{automatic['id']}/start_training")
    await asyncio.sleep(0.15)
    assert (await client.get(f"{MODELS}/{expert['id']}")).json()["checkpoint_steps"] == ["100", "200", "300"]
    assert (await client.get(f"{MODELS}/{automatic['id']}")).json()["checkpoint_steps"] == []
