"""The client's contract where the real API (or a gateway in front of it) misbehaves:
OutcomeUnknown whenever a non-idempotent call may have committed, clear errors for
undecodable/HTML/redirect answers, Bria's own status codes, sanitised messages.
Driven through the emulator's fault knobs (httpx.ASGITransport) or, where no knob can
express it, a scripted ASGI answer."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from fixtures_api import FAST_RETRIES, TOKEN_A
from fixtures_proxy import ScriptedApp
from reconciler.api import BriaClient, errors

PROJECT = {"project_name": "P", "ip_type": "other", "ip_medium": "photography"}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def scripted_client(app: ScriptedApp, **options) -> BriaClient:
    return BriaClient("http://gateway/v1", TOKEN_A, transport=httpx.ASGITransport(app=app),
                      **{**FAST_RETRIES, **options})


async def test_garbled_2xx_to_a_create_is_outcome_unknown_and_committed(api_harness_factory):
    harness = api_harness_factory("asgi", garbled_rate=1.0, seed=5)
    client = harness.client(max_retries=3)
    kinds = set()
    for _ in range(12):
        with pytest.raises(errors.OutcomeUnknown) as caught:
            await client.create_project(**PROJECT)
        assert caught.value.outcome_unknown and "may have taken effect" in str(caught.value)
        kinds.add("gzip" if "DecodingError" in str(caught.value) else "not-json")
        assert not CONTROL.search(str(caught.value))
    assert kinds == {"gzip", "not-json"}          # truncated JSON / HTML, and a bad gzip stream
    stats = await harness.emulator_stats()
    assert stats["garbled"] == 12 and stats["by_endpoint"]["POST /tailored-gen/projects"]["requests"] == 12
    assert client.stats.retries == 0                                   # never retried…
    assert len(await client.list_projects()) == 12                     # …and every one committed


@pytest.mark.parametrize("mode", ["asgi", "server"])
async def test_late_commit_after_a_5xx_is_outcome_unknown(api_harness_factory, mode):
    harness = api_harness_factory(mode, late_commit_rate=1.0, late_commit_delay=0.3, seed=1)
    client = harness.client()
    with pytest.raises(errors.OutcomeUnknown) as caught:
        await client.create_project(**PROJECT)
    assert caught.value.status in (502, 503, 504)
    assert await client.list_projects() == []                          # not there yet…
    for _ in range(100):
        await asyncio.sleep(0.05)
        if await client.list_projects():
            break
    assert len(await client.list_projects()) == 1                      # …committed later
    stats = await harness.emulator_stats()
    assert stats["late_commits"] == 1 and stats["late_committed"] == 1
    assert stats["by_endpoint"]["POST /tailored-gen/projects"]["requests"] == 1


@pytest.mark.parametrize("status", [408, 500, 504])
async def test_any_5xx_or_408_to_a_create_is_outcome_unknown_never_retried(status):
    app = ScriptedApp(status, '{"error": "upstream timed out"}')
    client = scripted_client(app)
    with pytest.raises(errors.OutcomeUnknown) as caught:
        await client.create_project(**PROJECT)
    assert caught.value.status == status and app.requests == 1
    await client.aclose()


@pytest.mark.parametrize("body", [b"", b'{"id": 1', b"[1, 2]"])
async def test_unreadable_2xx_to_a_create_is_outcome_unknown(body):
    app = ScriptedApp(201, body)
    client = scripted_client(app)
    with pytest.raises(errors.OutcomeUnknown):
        await client.create_project(**PROJECT)
    assert app.requests == 1
    await client.aclose()


async def test_html_answer_to_a_read_is_retried_then_a_clear_error(api_harness_factory):
    harness = api_harness_factory("asgi", odd_reply="html")
    client = harness.client(max_retries=2)
    with pytest.raises(errors.UnexpectedResponse) as caught:
        await client.list_projects()
    message = str(caught.value)
    assert "something that is not JSON (text/html" in message and "Sign in" in message
    assert "\x1b" not in message and "\x07" not in message and "\\u001b" in message   # OSC shown, not run
    assert client.stats.requests == 3                                   # bounded retries, like a 5xx


async def test_redirect_is_never_followed_and_names_the_host(api_harness_factory):
    harness = api_harness_factory("asgi", odd_reply="redirect")
    client = harness.client()
    with pytest.raises(errors.Redirected) as caught:
        await client.list_projects()
    assert "login.example.net" in str(caught.value) and "api.endpoint" in str(caught.value)
    assert "sso?next" not in str(caught.value)                          # the host, not the whole URL
    with pytest.raises(errors.OutcomeUnknown):                          # a 303 means "done, see there"
        await client.create_project(**PROJECT)
    assert client.stats.requests == 2 and (await harness.emulator_stats())["odd_replies"] == 2


async def test_image_above_the_limit_is_413_payload_too_large(api_harness_factory, api_image_file):
    harness = api_harness_factory("asgi", max_image_bytes=100)
    client = harness.client()
    project = await client.create_project(**PROJECT)
    dataset = await client.create_dataset(project["id"], "d")
    with pytest.raises(errors.PayloadTooLarge) as caught:
        await client.upload_image(dataset["id"], api_image_file("big.png", 256, 256))
    assert caught.value.status == 413 and "12 MB" in str(caught.value)
    assert not caught.value.outcome_unknown and client.stats.retries == 0
    assert await client.list_images(dataset["id"]) == []


@pytest.mark.parametrize("operation", ["POST /tailored-gen/projects", "GET /tailored-gen/projects"])
async def test_506_is_insufficient_data_and_never_retried(api_harness_factory, operation):
    harness = api_harness_factory("asgi", insufficient_data_on=(operation,))
    client = harness.client()
    call = client.create_project(**PROJECT) if operation.startswith("POST") else client.list_projects()
    with pytest.raises(errors.InsufficientData) as caught:
        await call
    assert not isinstance(caught.value, errors.ServerError) and not caught.value.outcome_unknown
    assert "insufficient data" in str(caught.value) and client.stats.requests == 1


async def test_403_bare_json_string_is_forbidden_with_its_text():
    app = ScriptedApp(403, '"Quota exceeded: Free users can make up to 1000 requests in total."')
    client = scripted_client(app)
    with pytest.raises(errors.Unauthorized) as caught:
        await client.list_projects()
    assert isinstance(caught.value, errors.Forbidden) and app.requests == 1
    assert "Quota exceeded: Free users can make up to 1000 requests in total." in str(caught.value)
    await client.aclose()


@pytest.mark.parametrize(("body", "content_type"), [
    ('{"message": "name is bad"}', "application/json"), ('{"detail": "name is bad"}', "application/json"),
    ('{"error": {"message": "name is bad"}}', "application/json"), ("name is bad", "text/plain")])
async def test_every_error_body_shape_is_read(body, content_type):
    client = scripted_client(ScriptedApp(400, body, content_type))
    with pytest.raises(errors.ValidationError) as caught:
        await client.create_project(**PROJECT)
    assert caught.value.message == "name is bad"
    await client.aclose()


async def test_460_image_url_not_fetched():
    client = scripted_client(ScriptedApp(460, '{"error": "failed to download image"}'))
    with pytest.raises(errors.ImageFetchFailed) as caught:
        await client.create_dataset(1, "d")
    assert "could not download the image" in str(caught.value) and not caught.value.outcome_unknown
    await client.aclose()


async def test_api_text_is_sanitised_in_every_error():
    hostile = '{"error": "bad\\u001b]0;pwned\\u0007 name\\r\\u001b[2Kfake line\\u009b31m"}'
    client = scripted_client(ScriptedApp(409, hostile))
    with pytest.raises(errors.Conflict) as caught:
        await client.create_project(**PROJECT)
    text = str(caught.value)
    assert not CONTROL.search(text) and "pwned" in text and "\\u001b" in text and "\\u000d" in text
    await client.aclose()


@pytest.mark.parametrize("body", ['{"caption_prefix": "a drawing of"}', '{"prefix": 3}', '["a drawing of"]'])
async def test_generate_prefix_with_an_unexpected_shape_is_a_clear_error(body, api_image_file):
    app = ScriptedApp(200, body)
    client = scripted_client(app, max_retries=1)
    with pytest.raises(errors.UnexpectedResponse) as caught:
        await client.generate_prefix([api_image_file("a.png")], ip_type="stylized_scene", ip_medium="illustration")
    assert "prefix" in str(caught.value) or "not an object" in str(caught.value)
    await client.aclose()


async def test_calls_have_timeouts_that_fit_them():
    client = BriaClient("http://gateway/v1", TOKEN_A)
    assert client._http.timeout.connect == 10 and client._http.timeout.read == 30
    assert client._slow_timeout.read >= 120 and client._http.follow_redirects is False
    await client.aclose()


async def test_408_and_5xx_to_a_read_are_retried_a_bounded_number_of_times():
    for status in (408, 504):
        app = ScriptedApp(status, "")
        client = scripted_client(app, max_retries=2)
        with pytest.raises(errors.ApiError) as caught:
            await client.list_models()
        assert caught.value.status == status and not caught.value.outcome_unknown and app.requests == 3
        await client.aclose()


async def test_bad_gzip_on_a_read_is_retried_then_a_clear_error():
    app = ScriptedApp(200, b"not gzip at all", headers={"Content-Encoding": "gzip"})
    client = scripted_client(app, max_retries=6)
    with pytest.raises(errors.UnexpectedResponse) as caught:
        await client.list_projects()
    assert "DecodingError" in str(caught.value) and app.requests == 3     # 2 retries for an unreadable 2xx
    await client.aclose()
