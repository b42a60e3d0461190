"""The client under a misbehaving API: dropped responses, injected 5xx, rate limits, and the
token kept out of logs and errors. All against the emulator (the only fake API)."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from fixtures_api import LOG_TOKEN
from reconciler.api import errors

PROJECT = {"project_name": "P", "ip_type": "other", "ip_medium": "photography"}
UPLOADS = "POST /tailored-gen/datasets/{id}/images"


# --- dropped responses: the object exists, the client must not retry ----------------------------


@pytest.mark.parametrize("mode", ["asgi", "server"])
async def test_dropped_create_raises_outcome_unknown_and_is_not_retried(api_harness_factory, mode):
    harness = api_harness_factory(mode, drop_rate=1.0, seed=1)
    client = harness.client("tok-drop-0001")
    with pytest.raises(errors.OutcomeUnknown) as caught:
        await client.create_project(**PROJECT)
    assert isinstance(caught.value, errors.TransportError)
    assert (caught.value.method, caught.value.path) == ("POST", "/tailored-gen/projects")
    assert caught.value.outcome_unknown is True
    projects = await client.list_projects()  # reads are never dropped
    assert [p["project_name"] for p in projects] == ["P"]
    stats = await harness.emulator_stats()
    assert stats["by_endpoint"]["POST /tailored-gen/projects"]["requests"] == 1
    assert client.stats.retries == 0


async def test_dropped_upload_and_start_training_are_outcome_unknown(api_harness_factory, api_image_file):
    harness = api_harness_factory("asgi", drop_rate=1.0, training_seconds=60, seed=2)
    client = harness.client("tok-drop-0002", max_retries=2)
    with pytest.raises(errors.OutcomeUnknown):
        await client.create_project(**PROJECT)
    project_id = (await client.list_projects())[0]["id"]
    with pytest.raises(errors.OutcomeUnknown):
        await client.create_dataset(project_id, "d")
    dataset_id = (await client.list_datasets())[0]["id"]

    with pytest.raises(errors.OutcomeUnknown) as caught:
        await client.upload_image(dataset_id, api_image_file("a.png"), image_name="a.png")
    assert caught.value.path == f"/tailored-gen/datasets/{dataset_id}/images"
    assert [i["image_name"] for i in await client.list_images(dataset_id)] == ["a.png"]
    assert (await harness.emulator_stats())["by_endpoint"][
        "POST /tailored-gen/datasets/{id}/images"]["requests"] == 1

    # An idempotent PUT whose response is lost is retried; it took effect all the same.
    with pytest.raises(errors.TransportError) as put_lost:
        await client.update_dataset(dataset_id, status="completed")
    assert not isinstance(put_lost.value, errors.OutcomeUnknown)
    assert client.stats.by_endpoint["PUT /tailored-gen/datasets/{id}"].requests == 3
    assert (await client.get_dataset(dataset_id))["status"] == "completed"

    with pytest.raises(errors.OutcomeUnknown):
        await client.create_model(name="m", dataset_id=dataset_id, training_version="max",
                                  training_mode="fully_automated")
    model_id = (await client.list_models())[0]["id"]
    with pytest.raises(errors.OutcomeUnknown):  # start_training is a POST: may have started
        await client.start_training(model_id)
    assert (await client.get_model(model_id))["status"] == "InProgress"


# --- injected 5xx -------------------------------------------------------------------------------


async def test_faults_are_retried_for_reads_but_never_for_creates(api_harness_factory, api_image_file):
    harness = api_harness_factory("asgi", fault_rate=0.5, seed=11)
    client = harness.client("tok-fault-0001", max_retries=12)
    for _ in range(20):
        assert isinstance(await client.list_projects(), list)
    prefix_paths = [api_image_file("p.png")]
    for _ in range(5):  # generate_prefix has no side effect: retried like a read
        await client.generate_prefix(prefix_paths, ip_type="stylized_scene", ip_medium="illustration")
    assert client.stats.retries > 5

    outcomes = []
    for _ in range(12):
        try:
            await client.create_project(**PROJECT)
            outcomes.append("created")
        except errors.OutcomeUnknown as error:   # any 5xx to a create: it may have committed
            assert error.outcome_unknown is True and error.status in (500, 502, 503)
            outcomes.append("5xx")
    assert "5xx" in outcomes and "created" in outcomes
    stats = await harness.emulator_stats()
    assert stats["by_endpoint"]["POST /tailored-gen/projects"]["requests"] == 12  # one attempt each
    assert client.stats.by_endpoint["POST /tailored-gen/projects"].retries == 0
    # The emulator fails before committing, so exactly the acknowledged creates exist.
    assert len(await client.list_projects()) == outcomes.count("created")


async def test_persistent_5xx_on_a_read_gives_up_with_server_error(api_harness_factory):
    harness = api_harness_factory("asgi", fault_rate=1.0, seed=3)
    client = harness.client("tok-fault-0002", max_retries=3)
    with pytest.raises(errors.ServerError) as caught:
        await client.list_models()
    assert caught.value.outcome_unknown is False
    assert client.stats.requests == 4 and client.stats.retries == 3


# --- adaptive pacing under a per-endpoint rate limit ------------------------------------------


async def _upload_many(client, dataset_id: int, paths) -> list[dict]:
    return await asyncio.gather(*(client.upload_image(dataset_id, p) for p in paths))


async def _rate_limited_uploads(harness, api_image_file, count: int, concurrency: int):
    client = harness.client("tok-pacing-0001", max_concurrency=concurrency, max_retries=10,
                            backoff_base=0.2, backoff_cap=5.0)
    project = await client.create_project(**PROJECT)
    dataset = await client.create_dataset(project["id"], "d")
    paths = [api_image_file(f"{seed}.png", 256, 256, seed) for seed in range(count)]
    started = time.monotonic()
    uploaded = await _upload_many(client, dataset["id"], paths)
    elapsed = time.monotonic() - started
    assert len({image["id"] for image in uploaded}) == count
    assert len(await client.list_images(dataset["id"])) == count
    rate_limited = client.stats.by_endpoint[UPLOADS].rate_limited
    assert (await harness.emulator_stats())["by_endpoint"][UPLOADS]["rate_limited"] == rate_limited
    return rate_limited, elapsed


async def test_pacing_keeps_429s_few_at_600_per_minute(api_harness_factory, api_image_file):
    harness = api_harness_factory("asgi", rate_limit=600, rate_burst=5)
    rate_limited, elapsed = await _rate_limited_uploads(harness, api_image_file, count=60, concurrency=8)
    ideal = (60 - 5) / 10.0
    print(f"\n600/min, 60 uploads x8: {rate_limited} x 429, {elapsed:.1f} s (ideal {ideal:.1f} s)")
    assert rate_limited <= 8  # ~3: the first burst's, then the pacer measures the limit
    # Wide bound: the point is that pacing does not back off far past the limit (the 429
    # count above is the behaviour); the exact throughput belongs to benchmarks/.
    assert elapsed < ideal * 2.5


@pytest.mark.slow
async def test_pacing_keeps_429s_few_at_60_per_minute(api_harness_factory, api_image_file):
    harness = api_harness_factory("asgi", rate_limit=60, rate_burst=3)
    rate_limited, elapsed = await _rate_limited_uploads(harness, api_image_file, count=30, concurrency=8)
    ideal = (30 - 3) / 1.0
    print(f"\n60/min, 30 uploads x8: {rate_limited} x 429, {elapsed:.1f} s (ideal {ideal:.1f} s)")
    assert rate_limited <= 10  # 5 of the first 8 (the bucket holds 3), then ~1 per probe
    assert elapsed < ideal * 1.6   # no long back-offs; slack for a loaded CI machine


# --- the token never leaks --------------------------------------------------------------------


async def test_token_is_absent_from_logs_errors_and_repr(api_harness_factory, api_image_file, caplog):
    caplog.set_level(logging.DEBUG)
    harness = api_harness_factory("asgi", tokens=(LOG_TOKEN,), drop_rate=1.0, seed=5)
    client = harness.client(LOG_TOKEN, max_retries=1)
    texts = [repr(client)]
    with pytest.raises(errors.OutcomeUnknown) as dropped:
        await client.create_project(**PROJECT)
    texts += [str(dropped.value), repr(dropped.value), str(dropped.value.__cause__)]
    project_id = (await client.list_projects())[0]["id"]
    for call in (client.get_project(project_id + 1000), client.update_project(project_id, ip_type="x"),
                 client.upload_image(project_id + 1000, api_image_file("a.png"))):
        with pytest.raises(errors.ApiError) as caught:
            await call
        texts += [str(caught.value), repr(caught.value)]
    with pytest.raises(errors.TransportError) as lost_put:
        await client.update_project(project_id, project_name="Q")
    assert isinstance(lost_put.value.__cause__, ConnectionResetError)  # the fault, for debugging
    texts += [str(lost_put.value), repr(lost_put.value.__cause__)]
    impostor = harness.client("tok-" + LOG_TOKEN[::-1])  # unknown token: 401
    with pytest.raises(errors.Unauthorized) as unauthorized:
        await impostor.list_projects()
    texts.append(str(unauthorized.value))

    api_lines = [r.getMessage() for r in caplog.records if r.name == "bria.api"]
    assert any("GET /tailored-gen/projects -> 200 in" in line and "(attempt 1)" in line for line in api_lines)
    assert any(line.startswith("POST /tailored-gen/projects -> Dropped") for line in api_lines)
    assert any("(attempt 2)" in line for line in api_lines)  # the retried PUT
    everything = "\n".join(texts) + caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert LOG_TOKEN not in everything
    assert "tok-" + LOG_TOKEN[::-1] not in everything


# --- concurrency bound and timeouts -----------------------------------------------------------


async def test_max_concurrency_bounds_requests_in_flight(api_harness_factory):
    harness = api_harness_factory("asgi", latency_ms=100)
    narrow = harness.client("tok-narrow-0001", max_concurrency=2)
    wide = harness.client("tok-wide-00001", max_concurrency=8)
    timings = {}
    for name, client in (("narrow", narrow), ("wide", wide)):
        started = time.monotonic()
        await asyncio.gather(*(client.list_projects() for _ in range(8)))
        timings[name] = time.monotonic() - started
    assert timings["narrow"] >= 0.4  # 8 calls, 2 at a time, 100 ms each: 4 rounds at least
    # All 8 at once is one round (~0.1 s); a ratio, not an absolute bound, so a loaded CI
    # machine slowing both runs alike does not fail it.
    assert timings["wide"] < timings["narrow"] / 2


async def test_read_timeout_is_outcome_unknown_for_a_create_and_retried_for_a_read(api_harness_factory):
    harness = api_harness_factory("server", latency_ms=400)
    client = harness.client("tok-timeout-0001", max_retries=1, timeout=httpx.Timeout(5.0, read=0.1))
    with pytest.raises(errors.OutcomeUnknown) as caught:
        await client.create_project(**PROJECT)
    assert "ReadTimeout" in str(caught.value)
    with pytest.raises(errors.TransportError) as read:
        await client.list_projects()
    assert not isinstance(read.value, errors.OutcomeUnknown)
    assert client.stats.by_endpoint["POST /tailored-gen/projects"].requests == 1
    assert client.stats.by_endpoint["GET /tailored-gen/projects"].requests == 2
    stats = await harness.emulator_stats()
    assert stats["by_endpoint"]["POST /tailored-gen/projects"]["requests"] == 1  # not retried
    assert stats["by_endpoint"]["GET /tailored-gen/projects"]["requests"] == 2
