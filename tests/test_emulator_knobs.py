"""Emulator knobs: rate limiting (429, Retry-After, token bucket), injected faults, dropped
connections, latency and the admin stats endpoints."""

from __future__ import annotations

import time

import pytest

from fixtures_emulator import PROJECT_LUNA, emu_project

PROJECTS = "/tailored-gen/projects"
STATS = "http://emulator/_emulator/stats"


async def test_rate_limit_429_per_endpoint_and_organisation(emulator_client, emulator_app):
    app = emulator_app(rate_limit=60)          # 1/s, bucket of 1
    alice, bob = emulator_client(app, token="alice"), emulator_client(app, token="bob")
    assert (await alice.get(PROJECTS)).status_code == 200
    limited = await alice.get(PROJECTS)
    assert limited.status_code == 429
    assert limited.json() == {"error": "Request limit exceeded"}
    assert "retry-after" not in limited.headers
    assert (await alice.get("/tailored-gen/datasets")).status_code == 200     # another endpoint
    assert (await bob.get(PROJECTS)).status_code == 200                       # another organisation
    stats = (await alice.get(STATS)).json()
    assert stats["rate_limited"] == 1
    assert stats["by_endpoint"]["GET /tailored-gen/projects"] == {"requests": 3, "rate_limited": 1}


async def test_retry_after_header_when_enabled(emulator_client):
    client = emulator_client(rate_limit=30, retry_after=True)   # one token every 2 s
    await client.get(PROJECTS)
    limited = await client.get(PROJECTS)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"


async def test_route_template_is_the_endpoint(emulator_client):
    """Different ids share one bucket: the endpoint is method + route template."""
    client = emulator_client(rate_limit=60)
    assert (await client.get(f"{PROJECTS}/1")).status_code == 404
    assert (await client.get(f"{PROJECTS}/2")).status_code == 429


async def test_bucket_refills_smoothly(emulator_client):
    client = emulator_client(rate_limit=300, rate_burst=2)      # 5 tokens/s: the 3 GETs fit in 200 ms
    statuses = [(await client.get(PROJECTS)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    time.sleep(0.25)                                            # > one token's worth (200 ms)
    assert (await client.get(PROJECTS)).status_code == 200


async def test_sustained_throughput_matches_the_limit(emulator_client):
    client = emulator_client(rate_limit=1200)                   # 20/s, bucket of 20
    started = time.monotonic()
    accepted = 0
    while time.monotonic() - started < 1.0:
        if (await client.get(PROJECTS)).status_code == 200:
            accepted += 1
    assert 30 <= accepted <= 42                                  # 20 burst + ~20 refilled in 1 s


async def test_faults_commit_nothing(emulator_client, emulator_app):
    app = emulator_app(fault_rate=0.5, seed=3)
    client = emulator_client(app)
    created = 0
    for _ in range(20):
        response = await client.post(PROJECTS, json=PROJECT_LUNA)
        assert response.status_code in (201, 500, 502, 503)
        assert "error" in response.json() or response.status_code == 201
        created += response.status_code == 201
    assert 0 < created < 20
    listing = await client.get(PROJECTS)
    while listing.status_code != 200:
        listing = await client.get(PROJECTS)
    assert len(listing.json()) == created
    stats = (await client.get(STATS)).json()
    assert stats["faults"] == stats["requests"] - created - 1


async def test_dropped_mutation_is_committed(emulator_client):
    client = emulator_client(drop_rate=1.0)
    with pytest.raises(ConnectionResetError):
        await client.post(PROJECTS, json=PROJECT_LUNA)
    projects = (await client.get(PROJECTS)).json()                   # reads are never dropped
    assert [p["project_name"] for p in projects] == [PROJECT_LUNA["project_name"]]
    bad = await client.post(PROJECTS, json={"project_name": "no medium"})
    assert bad.status_code == 400                                     # failures are not dropped
    stats = (await client.get(STATS)).json()
    assert stats["dropped"] == 1


async def test_latency_is_added(emulator_client):
    client = emulator_client(latency_ms=100)
    started = time.monotonic()
    await client.get(PROJECTS)
    assert time.monotonic() - started >= 0.1


async def test_stats_and_reset(emulator_client):
    client = emulator_client()
    await emu_project(client)
    await client.get(PROJECTS)
    await client.get(f"{PROJECTS}/1")
    stats = (await client.get(STATS)).json()
    assert stats["requests"] == 3
    assert stats["by_endpoint"]["GET /tailored-gen/projects/{id}"] == {"requests": 1, "rate_limited": 0}
    reset = await client.post(f"{STATS}/reset")
    assert reset.status_code == 200
    assert (await client.get(STATS)).json() == {"requests": 0, "rate_limited": 0, "faults": 0, "dropped": 0,
                                                "late_commits": 0, "late_committed": 0, "garbled": 0,
                                                "insufficient_data": 0, "odd_replies": 0, "by_endpoint": {}}


def test_config_rejects_nonsense():
    from reconciler.emulator import EmulatorConfig

    for bad in ({"failure_rate": 1.5}, {"rate_limit": 0}, {"training_seconds": -1}, {"rate_burst": 0.5},
                {"training_seconds": float("nan")}, {"captions_seconds": float("inf")},
                {"latency_ms": float("nan")}, {"rate_limit": float("inf")}, {"max_request_bytes": 0},
                {"late_commit_rate": 2}, {"garbled_rate": -0.1}, {"late_commit_delay": -1},
                {"max_image_bytes": 0}, {"odd_reply": "teapot"}):
        with pytest.raises(ValueError):
            EmulatorConfig(**bad)
    assert EmulatorConfig(rate_limit=6000).bucket_capacity == 100
    assert EmulatorConfig(rate_limit=10).bucket_capacity == 1


def test_concurrent_uploads_from_threads_respect_the_image_limit(emulator_app):
    """One app shared by four threads (each with its own event loop): the 200-image limit
    holds and every id is distinct, so the store's lock makes check-then-insert atomic."""
    import asyncio
    import threading

    import httpx

    from fixtures_emulator import EMULATOR_BASE_URL, b64, emu_dataset, make_png

    app = emulator_app()
    body = {"file": b64(make_png(256, 256))}

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=EMULATOR_BASE_URL,
                                 headers={"api_token": "t"})

    async def arrange() -> int:
        async with client() as c:
            return (await emu_dataset(c, (await emu_project(c))["id"]))["id"]

    dataset_id = asyncio.run(arrange())
    results: list[tuple[int, int | None]] = []

    async def upload_many() -> None:
        async with client() as c:
            for _ in range(55):
                response = await c.post(f"/tailored-gen/datasets/{dataset_id}/images", json=body)
                results.append((response.status_code, response.json().get("id")))

    threads = [threading.Thread(target=asyncio.run, args=(upload_many(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [image_id for status, image_id in results if status == 201]
    assert len(created) == 200 and len(set(created)) == 200
    assert sorted(status for status, _ in results if status != 201) == [409] * 20
