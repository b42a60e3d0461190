"""Unit tests of the API client's parts that need no server: error bodies, Retry-After,
streamed upload bodies, and redaction."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import socket
from datetime import datetime, timedelta, timezone

import pytest

from reconciler.api import BriaClient, errors
from reconciler.api.bodies import (CHUNK_BYTES, ImageChanged, ImageFileError, base64_length, encode_images,
                                   upload_body)
from reconciler.api.redaction import REDACTED, RedactingFilter, redact, register_secret, unregister_secret
from reconciler.api.transport import RequestSpec, RetryPolicy, build_request, parse_retry_after

# --- error bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "dataset is completed"}', "dataset is completed"),
        (b'{"message": "bad zip"}', "bad zip"),
        (b'{"detail": "not found"}', "not found"),
        (b'{"detail": [{"msg": "field required"}, {"msg": "too long"}]}', "field required; too long"),
        (b'{"error": {"code": 400, "message": "nested", "details": "x"}}', "nested"),
        (b'"Monthly quota exceeded"', "Monthly quota exceeded"),
        (b"Bad Gateway from upstream", "Bad Gateway from upstream"),
        (b"", ""),
        (b"   \n", ""),
        (b'{"unexpected": 1}', '{"unexpected": 1}'),
        (b"\xff\xfe not utf8", "\ufffd\ufffd not utf8"),
    ],
)
def test_message_from_any_error_body_shape(body, message):
    assert errors.message_from_body(body) == message


def test_message_from_long_plain_text_is_shortened():
    assert len(errors.message_from_body("x" * 5000)) == 500


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.ValidationError), (401, errors.Unauthorized), (403, errors.Forbidden),
        (404, errors.NotFound), (409, errors.Conflict), (412, errors.PreconditionFailed),
        (415, errors.ValidationError), (422, errors.ValidationError),
        (429, errors.RateLimited), (500, errors.ServerError), (503, errors.ServerError),
        (418, errors.ApiError),
    ],
)
def test_error_class_by_status(status, cls):
    error = errors.error_from_response(status, b'{"error": "boom"}', method="GET", path="/x/1")
    assert type(error) is cls
    assert (error.status, error.method, error.path) == (status, "GET", "/x/1")
    if status == 403:   # Bria's own codes get a phrase saying what they mean
        assert error.message == "access refused (quota exceeded or not included in the plan): boom"
    else:
        assert error.message == "boom"
        assert str(error) == f"GET /x/1: HTTP {status}: boom"
    assert error.outcome_unknown is False


def test_every_error_is_an_api_error_and_outcome_unknown_is_a_transport_error():
    error = errors.OutcomeUnknown("ReadError", method="POST", path="/tailored-gen/projects")
    assert isinstance(error, errors.TransportError)
    assert isinstance(error, errors.ApiError)
    assert error.outcome_unknown is True
    assert error.status is None
    assert str(error) == "POST /tailored-gen/projects: OutcomeUnknown: ReadError"


# --- Retry-After and backoff ----------------------------------------------------------------


def test_retry_after_seconds_and_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = (now + timedelta(seconds=7)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after(later, now=now) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2020 00:00:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("99999", now=now) == 600.0
    assert parse_retry_after("-5", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_full_jitter_backoff_stays_under_the_exponential_ceiling():
    import random

    policy = RetryPolicy(max_retries=10, backoff_base=0.5, backoff_cap=30.0)
    rng = random.Random(1)
    for retry_number, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (7, 30.0), (10, 30.0)]:
        delays = [policy.backoff(retry_number, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a constant


def test_endpoint_key_replaces_ids():
    assert RequestSpec("GET", "/tailored-gen/datasets/12/images/345", True).endpoint == (
        "GET /tailored-gen/datasets/{id}/images/{id}"
    )
    assert RequestSpec("POST", "/tailored-gen/models/7/start_training", False).endpoint == (
        "POST /tailored-gen/models/{id}/start_training"
    )


# --- streamed upload body -------------------------------------------------------------------


async def _collect(body) -> bytes:
    return b"".join([chunk async for chunk in body.open()])


@pytest.mark.parametrize("size", [0, 1, 2, 3, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES * 2 + 1])
async def test_upload_body_is_valid_json_with_exact_length(tmp_path, size):
    data = bytes((i * 7) % 256 for i in range(size))
    image = tmp_path / "img.png"
    image.write_bytes(data)
    body = upload_body(image, image_name="abc-é.png", increase_resolution=False)
    raw = await _collect(body)
    assert len(raw) == body.length
    parsed = json.loads(raw)
    assert base64.b64decode(parsed["file"]) == data
    assert parsed["image_name"] == "abc-é.png"
    assert parsed["increase_resolution"] is False
    assert base64_length(size) == len(parsed["file"])
    assert await _collect(body) == raw  # a second stream (a retry) is identical


async def test_upload_body_without_image_name(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"abcd")
    parsed = json.loads(await _collect(upload_body(image, image_name=None, increase_resolution=True)))
    assert parsed == {"file": base64.b64encode(b"abcd").decode(), "increase_resolution": True}


async def test_upload_body_streams_in_bounded_chunks(tmp_path):
    image = tmp_path / "big.png"
    image.write_bytes(b"\0" * (CHUNK_BYTES * 5))
    chunks = [chunk async for chunk in upload_body(image, image_name=None, increase_resolution=True).open()]
    assert base64_length(CHUNK_BYTES) <= max(len(c) for c in chunks) <= base64_length(CHUNK_BYTES) + 64
    assert len(chunks) == 5 + 1          # the JSON head rides on the first chunk, the tail on the end


async def test_a_file_smaller_than_a_chunk_goes_out_as_one_piece(tmp_path):
    image = tmp_path / "small.png"
    image.write_bytes(b"x" * (CHUNK_BYTES - 1))
    body = upload_body(image, image_name="small.png", increase_resolution=True)
    chunks = [chunk async for chunk in body.open()]
    assert len(chunks) == 1 and len(chunks[0]) == body.length


@pytest.mark.parametrize("size", [10, CHUNK_BYTES * 2 + 5])
async def test_upload_body_checks_the_planned_sha256_before_its_last_piece(tmp_path, size):
    """The bytes sent are the bytes planned: a file whose content changed (same size) is
    stopped before the body completes, so the server never gets a whole request."""
    image = tmp_path / "a.png"
    image.write_bytes(b"a" * size)
    planned = hashlib.sha256(b"a" * size).hexdigest()
    good = upload_body(image, image_name=None, increase_resolution=True, sha256=planned)
    assert json.loads(await _collect(good))["file"] == base64.b64encode(b"a" * size).decode()
    image.write_bytes(b"b" * size)
    changed = upload_body(image, image_name=None, increase_resolution=True, sha256=planned)
    sent: list[bytes] = []
    with pytest.raises(ImageChanged, match="changed since it was planned"):
        async for chunk in changed.open():
            sent.append(chunk)
    assert sum(map(len, sent)) < changed.length        # the body never completed
    assert not any(chunk.endswith(b"}") for chunk in sent)


async def test_upload_body_detects_a_file_that_changed_size(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"abcdef")
    body = upload_body(image, image_name=None, increase_resolution=True)
    image.write_bytes(b"abc")
    with pytest.raises(ImageFileError, match="changed size"):
        await _collect(body)
    image.unlink()
    with pytest.raises(ImageFileError, match="cannot read"):
        await _collect(body)


async def test_upload_request_has_content_length_and_the_client_headers(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"x" * 1000)
    body = upload_body(image, image_name="a.png", increase_resolution=True)
    client = BriaClient("http://emulator/v1", "tok-header-check")
    spec = RequestSpec("POST", "/tailored-gen/datasets/3/images", False, body=body)
    request = build_request(client._http, spec)
    await client.aclose()
    assert request.url == "http://emulator/v1/tailored-gen/datasets/3/images"
    assert request.headers["Content-Length"] == str(body.length)
    assert "Transfer-Encoding" not in request.headers
    assert request.headers["api_token"] == "tok-header-check"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("bria/")


def test_upload_body_of_a_missing_file_fails_before_any_request(tmp_path):
    with pytest.raises(FileNotFoundError):
        upload_body(tmp_path / "missing.png", image_name=None, increase_resolution=True)


def test_encode_images_takes_one_to_six(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"xyz")
    assert encode_images([image]) == ["eHl6"]
    with pytest.raises(ValueError):
        encode_images([])
    with pytest.raises(ValueError):
        encode_images([image] * 7)


# --- redaction ------------------------------------------------------------------------------


def test_redact_and_filter_remove_registered_secrets():
    secret = "sekret-TOKEN-123"
    register_secret(secret)
    try:
        assert redact(f"bad token {secret}!") == f"bad token {REDACTED}!"
        record = logging.LogRecord("httpx", logging.DEBUG, __file__, 1, "header %s", (secret,), None)
        assert RedactingFilter().filter(record) is True
        assert secret not in record.getMessage()
    finally:
        unregister_secret(secret)
    assert redact(secret) == secret  # unregistered: left alone


def test_repr_of_client_hides_the_token():
    client = BriaClient("http://emulator/v1", "tok-SHOULD-NOT-LEAK")
    assert "tok-SHOULD-NOT-LEAK" not in repr(client)
    assert "tok-SHOULD-NOT-LEAK" not in str(vars(client.stats))


# --- connection failures on a real (closed) loopback port ---------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_retried_even_for_a_create():
    port = _closed_port()
    async with BriaClient(
        f"http://127.0.0.1:{port}/v1", "tok-abcdef", max_retries=2, backoff_base=0.001
    ) as client:
        with pytest.raises(errors.TransportError) as caught:
            await client.create_project(project_name="p", ip_type="other", ip_medium="photography")
    assert not isinstance(caught.value, errors.OutcomeUnknown)  # never sent: nothing created
    assert caught.value.outcome_unknown is False
    assert client.stats.requests == 3
    assert client.stats.retries == 2
    assert "tok-abcdef" not in str(caught.value)
