"""The emulator's misbehaviour knobs: rate limiting, injected faults, dropped connections,
and the request counters that let tests and benchmarks measure them.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reconciler.emulator.config import EmulatorConfig

FAULT_STATUSES = (500, 502, 503)
LATE_COMMIT_STATUSES = (502, 503, 504)
# The undecodable 2xx bodies `garbled_rate` answers with: cut-off JSON, a proxy's HTML page,
# and a body that claims gzip but is not (httpx.DecodingError in the client).
GARBLED_KINDS = ("truncated", "html", "bad-gzip")


class DroppedConnection(ConnectionResetError):
    """Raised after a committed mutation's response has started: the client never gets it.

    Under uvicorn the connection is closed mid-response; under `httpx.ASGITransport` the
    exception reaches the client itself.
    """


class DroppedResponse(Response):
    """Starts the response, then drops the connection (the change is already committed)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise DroppedConnection("emulator dropped the connection after committing the change")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per (organisation, endpoint); refill `rate_limit / 60` tokens per second.
    With `rate_window`, a counter per (organisation, endpoint, minute) instead."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._per_second = (config.rate_limit or 0.0) / 60.0
        self._capacity = config.bucket_capacity
        self._enabled = config.rate_limit is not None
        self._window = config.rate_window
        self._per_window = int(config.rate_limit or 0)
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._counts: dict[tuple[int, str], tuple[int, int]] = {}   # → (minute, requests in it)
        self._lock = threading.Lock()

    def take(self, org_id: int, endpoint: str, now: float) -> float | None:
        """None when the request may proceed, else the seconds until a token is available."""
        if not self._enabled:
            return None
        with self._lock:
            if self._window:
                return self._take_from_window((org_id, endpoint), now)
            bucket = self._buckets.setdefault((org_id, endpoint), _Bucket(self._capacity, now))
            bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self._per_second

    def _take_from_window(self, key: tuple[int, str], now: float) -> float | None:
        minute = int(now // 60)
        counted_minute, count = self._counts.get(key, (minute, 0))
        if counted_minute != minute:
            count = 0
        if count < self._per_window:
            self._counts[key] = (minute, count + 1)
            return None
        return (minute + 1) * 60 - now


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After is whole seconds (RFC 9110); round up so a client that obeys succeeds."""
    return str(max(1, math.ceil(wait_seconds)))


class Dice:
    """Seeded random decisions. One generator per purpose, so enabling faults does not
    change which trainings fail for the same seed."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._training = random.Random(config.seed)
        self._faults = random.Random(None if config.seed is None else config.seed + 1)
        self._drops = random.Random(None if config.seed is None else config.seed + 2)
        self._late = random.Random(None if config.seed is None else config.seed + 3)
        self._garble = random.Random(None if config.seed is None else config.seed + 4)
        self._lock = threading.Lock()

    def late_commit_status(self) -> int | None:
        """A 5xx to answer now for a mutation that commits later, or None."""
        if self._config.late_commit_rate <= 0:
            return None
        with self._lock:
            if self._late.random() < self._config.late_commit_rate:
                return self._late.choice(LATE_COMMIT_STATUSES)
        return None

    def garbled_kind(self) -> str | None:
        if self._config.garbled_rate <= 0:
            return None
        with self._lock:
            if self._garble.random() < self._config.garbled_rate:
                return self._garble.choice(GARBLED_KINDS)
        return None

    def training_fails(self) -> bool:
        with self._lock:
            return self._training.random() < self._config.failure_rate

    def fault_status(self) -> int | None:
        if self._config.fault_rate <= 0:
            return None
        with self._lock:
            if self._faults.random() < self._config.fault_rate:
                return self._faults.choice(FAULT_STATUSES)
        return None

    def drop(self) -> bool:
        if self._config.drop_rate <= 0:
            return False
        with self._lock:
            return self._drops.random() < self._config.drop_rate


class Stats:
    """Request counters, served at `GET /_emulator/stats`. Thread-safe (embedding code may
    share one app between threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self.requests += 1
            self._endpoint(endpoint)["requests"] += 1

    def count_rate_limited(self, endpoint: str) -> None:
        with self._lock:
            self.rate_limited += 1
            self._endpoint(endpoint)["rate_limited"] += 1

    def count_fault(self) -> None:
        with self._lock:
            self.faults += 1

    def count_dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def count(self, counter: str) -> None:
        """One of `late_commits` (answered 5xx), `late_committed` (then committed),
        `garbled`, `insufficient_data`, `odd_replies`."""
        with self._lock:
            self.extra[counter] = self.extra.get(counter, 0) + 1

    def _endpoint(self, endpoint: str) -> dict[str, int]:
        return self.by_endpoint.setdefault(endpoint, {"requests": 0, "rate_limited": 0})

    def reset(self) -> None:
        with self._lock:
            self.requests = self.rate_limited = self.faults = self.dropped = 0
            self.by_endpoint: dict[str, dict[str, int]] = {}
            self.extra: dict[str, int] = {name: 0 for name in (
                "late_commits", "late_committed", "garbled", "insufficient_data", "odd_replies")}

    def to_json(self) -> dict:
        with self._lock:
            return {
                "requests": self.requests,
                "rate_limited": self.rate_limited,
                "faults": self.faults,
                "dropped": self.dropped,
                **self.extra,
                "by_endpoint": {name: dict(counts) for name, counts in sorted(self.by_endpoint.items())},
            }


def garbled_response(kind: str, status: int, body: bytes) -> Response:
    """A 2xx the client cannot decode, of the given GARBLED_KINDS kind."""
    if kind == "truncated":
        return Response(body[: max(1, len(body) // 2)], status_code=status, media_type="application/json")
    if kind == "html":
        return Response(b"<html><body><h1>200 OK</h1>upstream said nothing readable</body></html>",
                        status_code=status, media_type="text/html")
    return Response(b"this is not gzip data", status_code=status, media_type="application/json",
                    headers={"Content-Encoding": "gzip"})


def odd_response(kind: str) -> Response:
    """What a misconfigured endpoint or a broken proxy answers: a redirect elsewhere, a login
    page, or a cut-off JSON body."""
    if kind == "redirect":
        return Response(status_code=302, headers={"Location": "https://login.example.net/sso?next=/v1"})
    if kind == "truncated":
        return Response(b'[{"id": 1, "project_name": "Lu', status_code=200, media_type="application/json")
    return Response(b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>\x1b]0;owned\x07"
                    b"Please sign in</body></html>", status_code=200, media_type="text/html")
