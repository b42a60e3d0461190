"""Fixtures and helpers for talking to the emulator (usable by every area's tests).

- `make_png(width, height, seed)` / `make_image(...)`: valid image bytes; a different seed
  gives different bytes (so a different sha256).
- `emulator_app(**config)`: a new in-process emulator app (EmulatorConfig keyword args).
- `emulator_client(app=None, token="token-a", **config)`: an httpx.AsyncClient on
  `http://emulator/v1` through ASGITransport (closed at teardown).
- `emulator_server(*cli_args)`: starts `bria emulator serve --port 0 …` as a subprocess and
  returns its base URL `http://127.0.0.1:PORT/v1`; stopped at teardown.
- `emu_project`, `emu_dataset`, `emu_upload`, `emu_completed_dataset`: raw-API shortcuts
  for arranging a test (import them: `from fixtures_emulator import emu_project`).
"""

from __future__ import annotations

import base64
import io
import os
import select
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from reconciler.emulator import EmulatorConfig, create_app

EMULATOR_BASE_URL = "http://emulator/v1"


def make_image(width: int, height: int, seed: int = 0, image_format: str = "PNG") -> bytes:
    """Image bytes of the given size; the seed picks the colour (and a marker pixel)."""
    colour = ((seed * 67) % 256, (seed * 131 + 40) % 256, (seed * 29 + 90) % 256)
    image = Image.new("RGB", (width, height), colour)
    image.putpixel((seed % width, (seed // width) % height), (255 - colour[0], 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def make_png(width: int = 1024, height: int = 1024, seed: int = 0) -> bytes:
    return make_image(width, height, seed, "PNG")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


PROJECT_LUNA = {"project_name": "StoryCharacter_Luna", "ip_type": "defined_character",
                "ip_medium": "illustration", "ip_name": "Luna", "ip_description": "girl with blue hair"}


async def emu_project(client: httpx.AsyncClient, **fields: Any) -> dict:
    response = await client.post("/tailored-gen/projects", json={**PROJECT_LUNA, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def emu_dataset(client: httpx.AsyncClient, project_id: int, name: str = "Luna set") -> dict:
    response = await client.post("/tailored-gen/datasets", json={"project_id": project_id, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def emu_upload(client: httpx.AsyncClient, dataset_id: int, seed: int = 0, size: int = 512, **fields: Any) -> dict:
    body = {"file": b64(make_png(size, size, seed)), "image_name": f"img-{seed}.png", **fields}
    response = await client.post(f"/tailored-gen/datasets/{dataset_id}/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def emu_completed_dataset(client: httpx.AsyncClient, images: int = 1) -> dict:
    """A project and a completed dataset with `images` images; returns the dataset."""
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    for seed in range(images):
        await emu_upload(client, dataset["id"], seed=seed)
    response = await client.put(f"/tailored-gen/datasets/{dataset['id']}", json={"status": "completed"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def emulator_app():
    """Factory: `emulator_app(training_seconds=0.2, ...)` → a new emulator ASGI app."""
    apps = []

    def factory(**config: Any):
        app = create_app(EmulatorConfig(**config))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state.emulator.store.close()


@pytest.fixture
async def emulator_client(emulator_app):
    """Factory: `emulator_client(app=None, token="token-a", **config)` → httpx.AsyncClient."""
    clients: list[httpx.AsyncClient] = []

    def factory(app=None, token: str | None = "token-a", **config: Any) -> httpx.AsyncClient:
        headers = {"api_token": token} if token is not None else {}
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app or emulator_app(**config)),
                                   base_url=EMULATOR_BASE_URL, headers=headers)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


def start_emulator_server(*args: str, timeout: float = 20.0) -> tuple[subprocess.Popen, str]:
    """Starts `bria emulator serve --port 0 *args`; returns (process, base_url)."""
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith("bria emulator listening on "):
                return process, line.split(" on ", 1)[1].strip()
            if not line and process.poll() is not None:
                break
    process.kill()
    stderr.seek(0)
    raise RuntimeError(f"emulator did not start: {stderr.read().decode(errors='replace')[-2000:]}")


def stop_emulator_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def emulator_server():
    """Factory: `emulator_server("--training-seconds", "1")` → base URL `http://127.0.0.1:PORT/v1`."""
    processes: list[subprocess.Popen] = []

    def factory(*args: str) -> str:
        process, base_url = start_emulator_server(*args)
        processes.append(process)
        return base_url

    yield factory
    for process in processes:
        stop_emulator_server(process)
