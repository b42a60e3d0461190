"""A faulty gateway in front of `bria emulator serve`, for the journal's shared-account tests.

The emulator's own knobs inject 5xx *before* committing (`--fault-rate`) and committed
changes whose connection drops (`--drop-rate`). A real gateway can do worse, and the
journal must survive it (docs: bria-api-research, "the emulator is not Bria"):

- late commit: answer 504 at once and forward the request `late_commit_delay` seconds later
  (the backend commits after bria was told "error");
- garbled 2xx: forward (the change commits) and answer the status with half its body, so
  the JSON cannot be decoded;
- drop: forward (the change commits), then close the connection without an answer.

Only POSTs are faulted (creates, clones, uploads, starts: the non-idempotent calls). The
proxy is an ASGI app served by uvicorn on a loopback port in a thread of the test process;
`proxy.counts` tells how many of each fault really happened.

`fault_proxy(upstream_base_url, late_commit_rate=…, …)` → the proxy's base URL (…/v1).
Helpers: `bria(root, url, *args, token=SHARED_TOKEN, **env)` runs the CLI against `url`;
`account(url, token)` reads every object of the token's organisation with raw GETs;
`trainings_started(url)` counts start_training requests the emulator received.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures_apply import run_bria

SHARED_TOKEN = "shared-account-token"
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


class _Dropped(ConnectionResetError):
    """Raised after the response started: uvicorn closes the connection mid-answer."""


@dataclass
class FaultProxy:
    upstream: str                      # e.g. http://127.0.0.1:PORT (no /v1)
    late_commit_rate: float = 0.0
    late_commit_delay: float = 0.3
    garbled_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"late": 0, "garbled": 0, "dropped": 0})

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._client: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task[Any]] = set()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60)
        request = self._client.build_request(
            scope["method"], scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else ""),
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_HEADERS],
            content=body)
        fault = self._fault() if scope["method"] == "POST" else None
        if fault == "late":
            task = asyncio.ensure_future(self._later(request))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            await _answer(send, 504, b'{"message": "gateway timeout"}')
            return
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:   # the emulator dropped it (--drop-rate): drop ours too
            raise _Dropped("upstream dropped the connection") from exc
        if fault == "garbled" and 200 <= response.status_code < 300:
            await _answer(send, response.status_code, response.content[: max(1, len(response.content) // 2)])
            return
        if fault == "dropped" and 200 <= response.status_code < 300:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(b"content-type", b"application/json")]})
            raise _Dropped("fault proxy dropped the connection after the change committed")
        await _answer(send, response.status_code, response.content,
                      response.headers.get("content-type", "application/json"),
                      response.headers.get("retry-after"))

    def _fault(self) -> str | None:
        roll = self._random.random()
        for name, rate in (("late", self.late_commit_rate), ("garbled", self.garbled_rate),
                           ("dropped", self.drop_rate)):
            if roll < rate:
                self.counts[name] += 1
                return name
            roll -= rate
        return None

    async def _later(self, request: httpx.Request) -> None:
        await asyncio.sleep(self.late_commit_delay)
        assert self._client is not None
        try:
            await self._client.send(request)
        except httpx.TransportError:
            pass   # committed, then the emulator dropped the answer nobody waits for


async def _answer(send: Any, status: int, body: bytes, content_type: str = "application/json",
                  retry_after: str | None = None) -> None:
    headers = [(b"content-type", content_type.encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(app: FaultProxy) -> tuple[Any, threading.Thread, str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def fault_proxy():
    """Factory: `fault_proxy(upstream_v1_url, **FaultProxy fields)` → (proxy, base URL)."""
    running: list[tuple[Any, threading.Thread]] = []

    def factory(upstream_v1: str, **knobs: Any) -> tuple[FaultProxy, str]:
        proxy = FaultProxy(upstream_v1.removesuffix("/v1"), **knobs)
        server, thread, url = serve(proxy)
        running.append((server, thread))
        return proxy, url

    yield factory
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def _get(raw: httpx.Client, path: str) -> Any:
    """GET that outlasts injected faults and rate limits (the raw client has no retries)."""
    for _ in range(100):
        response = raw.get(path)
        if response.status_code == 200:
            return response.json()
        time.sleep(0.05)
    raise AssertionError(f"GET {path} kept failing: {response.status_code} {response.text}")


def account(url: str, token: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, headers={"api_token": token}) as raw:
        projects = _get(raw, "/tailored-gen/projects")
        datasets = _get(raw, "/tailored-gen/datasets")
        models = _get(raw, "/tailored-gen/models")
        images = {d["id"]: _get(raw, f"/tailored-gen/datasets/{d['id']}/images") for d in datasets}
    return {"projects": {p["id"]: p for p in projects}, "datasets": {d["id"]: d for d in datasets},
            "models": {m["id"]: m for m in models}, "images": images}


def trainings_started(url: str) -> int:
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()
    return sum(c["requests"] for name, c in stats["by_endpoint"].items() if "start_training" in name)


def bria(root: Path, url: str, *args: str, token: str = SHARED_TOKEN, **env: str) -> Any:
    return run_bria(*args, cwd=root, env={"BRIA_API_URL": url, "BRIA_API_TOKEN": token, **env})
