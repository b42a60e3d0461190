"""Emulator robustness: odd, hostile or huge requests are answered with a 4xx JSON error,
never a 500 (a 500 would look to the client like a server fault worth retrying)."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from fixtures_emulator import PROJECT_LUNA, b64, emu_dataset, emu_project
from reconciler.emulator.app import OPERATIONS

DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a": ' * 50_000 + b"1" + b"}" * 50_000
HUGE_ID = 10**30
ODD_BODIES = [
    DEEP_LIST, DEEP_OBJECT, b'"text"', b"null", b"12", b"[]", b"\xff\xfe\x00", b'{"x": NaN}',
    json.dumps({"project_id": HUGE_ID, "dataset_id": HUGE_ID, "name": "x", "project_name": "x"}).encode(),
    json.dumps({"ip_type": ["icons"], "ip_medium": {"a": 1}, "status": [], "training_version": [],
                "training_mode": {}, "upload_type": [], "lr_scheduler": []}).encode(),
    b'{"name": "\\ud800", "project_name": "\\udfff", "caption": "\\ud800", "image_name": "\\ud800"}',
    b'{"\\ud800": 1}',
]


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels (Pillow calls it a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


def concrete(template: str, dataset_id: int) -> str:
    return template.replace("{id}", str(dataset_id)).replace("{image_id}", "1")


@pytest.fixture
async def arranged(emulator_client):
    client = emulator_client()
    project = await emu_project(client)
    return client, await emu_dataset(client, project["id"])


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
async def test_no_endpoint_answers_odd_bodies_with_a_500(arranged, body):
    client, dataset = arranged
    for operation in sorted(OPERATIONS, key=lambda op: op.method == "DELETE"):   # deletes last
        response = await client.request(operation.method, concrete(operation.template, dataset["id"]),
                                        content=body, headers={"content-type": "application/json"})
        assert response.status_code < 500, (operation.name, response.status_code)
        if response.status_code >= 400:
            assert isinstance(response.json()["error"], str), operation.name


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT])
async def test_deeply_nested_json_is_400(emulator_client, body):
    response = await emulator_client().post("/tailored-gen/projects", content=body)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


@pytest.mark.parametrize("raw_id", [str(HUGE_ID), "9" * 5000, "9223372036854775808"])
async def test_ids_beyond_64_bits_are_404(emulator_client, raw_id):
    client = emulator_client()
    for path in (f"/tailored-gen/projects/{raw_id}", f"/tailored-gen/models/{raw_id}",
                 f"/tailored-gen/datasets/{raw_id}/images/{raw_id}"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "error" in response.json()


async def test_body_ids_beyond_64_bits_are_404(emulator_client):
    client = emulator_client()
    response = await client.post("/tailored-gen/datasets", json={"project_id": HUGE_ID, "name": "x"})
    assert response.status_code == 404
    response = await client.post("/tailored-gen/models", json={"name": "m", "dataset_id": -HUGE_ID})
    assert response.status_code == 404


@pytest.mark.parametrize("fields", [{"ip_medium": ["illustration"]}, {"ip_type": {"defined_character": 1}},
                                    {"ip_medium": 3}])
async def test_enum_fields_of_the_wrong_type_are_400(emulator_client, fields):
    response = await emulator_client().post("/tailored-gen/projects", json={**PROJECT_LUNA, **fields})
    assert response.status_code == 400


async def test_generate_prefix_enum_of_the_wrong_type_is_400(emulator_client):
    body = {"image_urls": ["https://example.com/a.png"], "ip_type": "stylized_scene", "ip_medium": ["x"]}
    assert (await emulator_client().post("/tailored-gen/generate_prefix", json=body)).status_code == 400


@pytest.mark.parametrize("body", [
    b'{"project_name": "\\ud800", "ip_type": "other", "ip_medium": "photography"}',
    b'{"project_name": "p", "ip_type": "other", "ip_medium": "photography", "\\udfff": 1}',
])
async def test_lone_surrogates_are_400(emulator_client, body):
    client = emulator_client()
    response = await client.post("/tailored-gen/projects", content=body)
    assert response.status_code == 400
    assert (await client.get("/tailored-gen/projects")).json() == []


async def test_image_claiming_gigapixels_is_400(arranged):
    """Pillow refuses to open it (decompression bomb); the emulator answers, not crashes."""
    client, dataset = arranged
    response = await client.post(f"/tailored-gen/datasets/{dataset['id']}/images",
                                 json={"file": b64(bomb_png(100_000, 100_000))})
    assert response.status_code == 400 and "too large" in response.json()["error"]
    body = {"images": [b64(bomb_png(100_000, 100_000))], "ip_type": "stylized_scene", "ip_medium": "photography"}
    assert (await client.post("/tailored-gen/generate_prefix", json=body)).status_code == 400


async def test_oversized_body_is_413_and_nothing_is_stored(emulator_client):
    client = emulator_client(max_request_bytes=10_000)
    project = await emu_project(client)
    dataset = await emu_dataset(client, project["id"])
    images = f"/tailored-gen/datasets/{dataset['id']}/images"
    response = await client.post(images, json={"file": "A" * 20_000})
    assert response.status_code == 413 and "error" in response.json()

    async def chunked():          # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b"A" * 1000

    response = await client.post(images, content=chunked())
    assert response.status_code == 413
    assert (await client.get(images)).json() == []


def test_default_body_limit_is_generous():
    from reconciler.emulator import EmulatorConfig

    assert EmulatorConfig().max_request_bytes >= 64 * 1024 * 1024


async def test_wrong_method_is_405_with_allow(emulator_client):
    response = await emulator_client().patch("/tailored-gen/projects/1")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "DELETE"}
    assert response.json() == {"error": "method not allowed"}
