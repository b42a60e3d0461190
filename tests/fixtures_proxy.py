"""Tiny ASGI stand-ins for what no emulator knob expresses (used with httpx.ASGITransport).

- `JsonRewriter(app, rewrite)`: passes every request to `app` (the emulator) and lets
  `rewrite(method, path, value)` change a JSON answer (e.g. cut a list short — a list
  that silently stops early — or report a model status bria does not know).
- `ScriptedApp(status, body, content_type)`: answers every request the same way and counts
  them (a gateway's 403 with a bare JSON string, an odd generate_prefix shape, …).
"""

from __future__ import annotations

import json
from typing import Any, Callable

Rewrite = Callable[[str, str, Any], Any]


class JsonRewriter:
    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self._rewrite = rewrite

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = self._body(scope, start, b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)

    def _body(self, scope: dict, start: dict, body: bytes) -> bytes:
        if not 200 <= start["status"] < 300 or not body:
            return body
        value = self._rewrite(scope["method"], scope["path"].removeprefix("/v1"), json.loads(body))
        return json.dumps(value).encode()


class ScriptedApp:
    def __init__(self, status: int, body: bytes | str, content_type: str = "application/json",
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = content_type
        self.headers = headers or {}
        self.requests = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.requests += 1
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", self.content_type.encode()), (b"content-length", str(len(self.body)).encode())]
        headers += [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
