"""The request pipeline every /v1 operation goes through.

Order: count → latency → auth (401) → rate limit (429) → odd reply (redirect, HTML page,
never answering) → 506 on the configured operations → injected fault (5xx, nothing
committed) → read the body (413 beyond `max_request_bytes`) → late commit (a mutation
answered 5xx now, run after `late_commit_delay`) → settle due caption jobs → handler →
maybe garble the 2xx body or drop the connection (mutations that succeeded only: the change
is committed but the client cannot read the answer).

Handlers are plain synchronous functions `(Call) -> Reply`; they raise `ApiError` to answer
with an error. They do their database work inside one `store.transaction()`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.errors import ApiError, bad_request
from reconciler.emulator.faults import (Dice, DroppedResponse, RateLimiter, Stats, garbled_response, odd_response,
                                        retry_after_header)
from reconciler.emulator.store import Store

TOKEN_HEADER = "api_token"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable; None for 204


@dataclass
class Call:
    """Everything a handler may use. `now` is wall-clock seconds (timestamps are stored)."""

    org_id: int
    params: Mapping[str, int]
    query: Mapping[str, str]
    raw_body: bytes
    now: float
    store: Store
    config: EmulatorConfig
    dice: Dice
    origin: str = ""      # scheme://host[:port] the request came to (for URLs in answers)
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is `{}`. Anything else → 400."""
        if self._json is None:
            if not self.raw_body.strip():
                self._json = {}
            else:
                try:
                    value = json.loads(self.raw_body)
                except (ValueError, UnicodeDecodeError, RecursionError):
                    # RecursionError: nesting deeper than the parser's stack (`[[[[…`).
                    raise bad_request("request body is not valid JSON") from None
                if not isinstance(value, dict):
                    raise bad_request("request body must be a JSON object")
                self._json = value
        return self._json


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str          # route template as shown in stats, e.g. /tailored-gen/datasets/{id}
    handler: Handler
    mutates: bool = True   # only mutations can have their connection dropped

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    # A message may quote request text (a field name); lone surrogates in it cannot be
    # encoded as UTF-8, so they are replaced rather than turning a 400 into a 500.
    printable = message.encode("utf-8", "replace").decode("utf-8")
    return JSONResponse({"error": printable}, status_code=status, headers=dict(headers or {}))


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes — checked on the declared
    Content-Length first and again while reading, so a chunked body cannot exceed it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Pipeline:
    """The state shared by all operations of one emulator app."""

    def __init__(self, config: EmulatorConfig, store: Store, settle: Callable[[Store, float], None]) -> None:
        self.config = config
        self.store = store
        self.stats = Stats()
        self.limiter = RateLimiter(config)
        self.dice = Dice(config)
        self._settle = settle
        self._late: set[asyncio.Task] = set()   # late commits in flight (a reference keeps them alive)

    def endpoint(self, operation: Operation) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            return await self._run(operation, request)
        return run

    async def _run(self, operation: Operation, request: Request) -> Response:
        self.stats.count_request(operation.name)
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000.0)
        try:
            org_id = self._authenticate(request)
        except ApiError as error:
            return error_response(error.status, error.message)
        refused = self._rate_limit(org_id, operation) or await self._misbehave(operation, request)
        if refused is not None:
            return refused
        try:
            raw_body = await read_body(request, self.config.max_request_bytes)
            call = Call(org_id=org_id, params=dict(request.path_params), query=dict(request.query_params),
                        raw_body=raw_body, now=time.time(), store=self.store, config=self.config, dice=self.dice,
                        origin=f"{request.url.scheme}://{request.url.netloc}")
            late = self.dice.late_commit_status() if operation.mutates else None
            if late is not None:
                self._commit_later(operation, call)
                return error_response(late, "gateway timeout (emulator late_commit_rate: committed later)")
            self._settle(self.store, call.now)
            reply = operation.handler(call)
        except ApiError as error:
            return error_response(error.status, error.message)
        return self._respond(operation, reply)

    async def _misbehave(self, operation: Operation, request: Request) -> Response | None:
        """The knobs that answer before anything is read or committed."""
        config = self.config
        if config.odd_reply and (not config.odd_reply_on or operation.name in config.odd_reply_on):
            self.stats.count("odd_replies")
            if config.odd_reply == "hang":       # accepts, never answers; ends when the client leaves
                while (await request.receive())["type"] != "http.disconnect":
                    pass
            return odd_response(config.odd_reply)
        if operation.name in config.insufficient_data_on:
            self.stats.count("insufficient_data")
            return error_response(506, "insufficient data")
        fault = self.dice.fault_status()
        if fault is not None:
            self.stats.count_fault()
            return error_response(fault, "injected server error (emulator fault_rate)")
        return None

    def _commit_later(self, operation: Operation, call: Call) -> None:
        """Run the handler after `late_commit_delay`, as a backend behind a gateway that
        already answered 5xx. Its own errors (e.g. 409) are the backend's business."""
        async def commit() -> None:
            await asyncio.sleep(self.config.late_commit_delay)
            call.now = time.time()
            try:
                self._settle(self.store, call.now)
                operation.handler(call)
                self.stats.count("late_committed")
            except ApiError:
                pass
        self.stats.count("late_commits")
        task = asyncio.get_running_loop().create_task(commit())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _authenticate(self, request: Request) -> int:
        token = request.headers.get(TOKEN_HEADER, "").strip()
        if not token:
            raise ApiError(401, "missing api_token header")
        if self.config.tokens is not None and token not in self.config.tokens:
            raise ApiError(401, "invalid api_token")
        return self.store.organisation(token)

    def _rate_limit(self, org_id: int, operation: Operation) -> Response | None:
        wait = self.limiter.take(org_id, operation.name, time.monotonic())
        if wait is None:
            return None
        self.stats.count_rate_limited(operation.name)
        headers = {"Retry-After": retry_after_header(wait)} if self.config.retry_after else None
        return error_response(429, "Request limit exceeded", headers)

    def _respond(self, operation: Operation, reply: Reply) -> Response:
        if reply.status == 204:
            response: Response = Response(status_code=204)
        else:
            response = JSONResponse(reply.body, status_code=reply.status)
        garbled = self.dice.garbled_kind() if operation.mutates and 200 <= reply.status < 300 and reply.status != 204 else None
        if garbled is not None:
            self.stats.count("garbled")
            return garbled_response(garbled, reply.status, response.body)
        if operation.mutates and 200 <= reply.status < 300 and self.dice.drop():
            self.stats.count_dropped()
            return DroppedResponse(response.body, status_code=response.status_code,
                                   headers=dict(response.headers))
        return response
