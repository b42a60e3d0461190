"""Emulator as a process (`bria emulator serve`) and persistence in a SQLite file."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from fixtures_emulator import (PROJECT_LUNA, emu_completed_dataset, emu_project, start_emulator_server,
                               stop_emulator_server)

PROJECTS = "/tailored-gen/projects"


def test_serve_answers_over_loopback(emulator_server):
    base_url = emulator_server("--token", "secret-1", "--token", "secret-2")
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    with httpx.Client(base_url=base_url, headers={"api_token": "secret-1"}, timeout=10) as client:
        created = client.post(PROJECTS, json=PROJECT_LUNA)
        assert created.status_code == 201
        assert [p["id"] for p in client.get(PROJECTS).json()] == [created.json()["id"]]
        assert client.get(PROJECTS, headers={"api_token": "other"}).status_code == 401
        assert client.get(PROJECTS, headers={"api_token": "secret-2"}).json() == []
        stats = client.get(base_url.removesuffix("/v1") + "/_emulator/stats").json()
        assert stats["requests"] == 4


def test_serve_drops_connections_after_committing(emulator_server):
    base_url = emulator_server("--drop-rate", "1", "--seed", "1")
    with httpx.Client(base_url=base_url, headers={"api_token": "t"}, timeout=10) as client:
        with pytest.raises(httpx.TransportError):
            client.post(PROJECTS, json=PROJECT_LUNA)
        assert len(client.get(PROJECTS).json()) == 1


def test_serve_rate_limit_with_retry_after(emulator_server):
    base_url = emulator_server("--rate-limit", "60", "--retry-after")
    with httpx.Client(base_url=base_url, headers={"api_token": "t"}, timeout=10) as client:
        assert client.get(PROJECTS).status_code == 200
        limited = client.get(PROJECTS)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"


def test_serve_data_survives_a_restart(tmp_path):
    data = str(tmp_path / "emulator.sqlite")
    process, base_url = start_emulator_server("--data", data)
    try:
        with httpx.Client(base_url=base_url, headers={"api_token": "t"}, timeout=10) as client:
            project_id = client.post(PROJECTS, json=PROJECT_LUNA).json()["id"]
    finally:
        stop_emulator_server(process)
    process, base_url = start_emulator_server("--data", data)
    try:
        with httpx.Client(base_url=base_url, headers={"api_token": "t"}, timeout=10) as client:
            assert [p["id"] for p in client.get(PROJECTS).json()] == [project_id]
            assert client.post(PROJECTS, json=PROJECT_LUNA).json()["id"] == project_id + 1
    finally:
        stop_emulator_server(process)


def test_serve_refuses_bad_options():
    result = subprocess.run([sys.executable, "-m", "reconciler", "emulator", "serve", "--failure-rate", "2"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1           # bad flags are bad input (docs/design.md: exit 1, never 2)
    assert "failure-rate" in result.stderr


async def test_training_continues_across_a_restart(emulator_client, tmp_path):
    """Status comes from stored timestamps: a model trains while no emulator runs."""
    data = tmp_path / "emulator.sqlite"
    first = emulator_client(data_path=data, training_seconds=0.3)
    dataset = await emu_completed_dataset(first)
    model = (await first.post("/tailored-gen/models", json={"name": "m", "dataset_id": dataset["id"]})).json()
    assert (await first.post(f"/tailored-gen/models/{model['id']}/start_training")).json()["status"] == "InProgress"
    await asyncio.sleep(0.35)
    second = emulator_client(data_path=data, training_seconds=0.3)     # same token → same organisation
    assert (await second.get(f"/tailored-gen/models/{model['id']}")).json()["status"] == "Completed"
    assert (await second.get(f"/tailored-gen/datasets/{dataset['id']}")).json()["images_count"] == 1
    other = emulator_client(data_path=data, token="someone-else")
    assert (await other.get(f"/tailored-gen/models/{model['id']}")).status_code == 404


async def test_database_holds_no_token(emulator_client, tmp_path):
    data = tmp_path / "emulator.sqlite"
    client = emulator_client(data_path=data, token="very-secret-token-value")
    await emu_project(client)
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert b"very-secret-token-value" not in raw


def test_serve_limits_request_bodies(emulator_server):
    base_url = emulator_server("--max-request-bytes", "2000")
    with httpx.Client(base_url=base_url, headers={"api_token": "t"}, timeout=10) as client:
        response = client.post(PROJECTS, json={**PROJECT_LUNA, "project_description": "x" * 3000})
        assert response.status_code == 413 and "error" in response.json()
        assert client.post(PROJECTS, json=PROJECT_LUNA).status_code == 201
