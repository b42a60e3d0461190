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
    client = emulator_client(rate_limit=1200, rate_burst=2)     # 20 tokens/s
    statuses = [(await client.get(PROJECTS)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    time.sleep(0.06)                                            # > one token's worth (50 ms)
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
                                                "by_endpoint": {}}


def test_config_rejects_nonsense():
    from reconciler.emulator import EmulatorConfig

    for bad in ({"failure_rate": 1.5}, {"rate_limit": 0}, {"training_seconds": -1}, {"rate_burst": 0.5}):
        with pytest.raises(ValueError):
            EmulatorConfig(**bad)
    assert EmulatorConfig(rate_limit=6000).bucket_capacity == 100
    assert EmulatorConfig(rate_limit=10).bucket_capacity == 1
