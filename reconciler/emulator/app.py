"""`create_app(config)`: the emulator as an ASGI app.

The API lives under `/v1` (the routes of the configured dialect, see dialects.py, and the v1
tailored generation endpoint) and `/v2` (FIBO generation and its status service); the admin
endpoints `/_emulator/stats` (GET) and `/_emulator/stats/reset` (POST) sit outside it and
need no token. Unknown paths and wrong methods are answered `{"error": ...}` like the rest.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Awaitable, Callable

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from reconciler.emulator import (checkpoints, datasets, dialects, generation, genimage, images, models,
                                 prefixes, projects, visual_schemas)
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.routing import Operation, Pipeline, error_response
from reconciler.emulator.store import Store

OPERATIONS: tuple[Operation, ...] = (
    *projects.OPERATIONS, *datasets.OPERATIONS, *images.OPERATIONS, *prefixes.OPERATIONS, *models.OPERATIONS,
    *generation.V1_OPERATIONS, *visual_schemas.OPERATIONS, *checkpoints.OPERATIONS,
)
V2_OPERATIONS: tuple[Operation, ...] = generation.V2_OPERATIONS


class _IdConvertor(Convertor[int]):
    """Path ids: 1 to 18 digits, so every matched id fits SQLite's 64-bit integers (and
    Python's int() limit on digit strings). Anything else is simply an unknown path (404)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("bria_emulator_id", _IdConvertor())


def _starlette_path(template: str) -> str:
    """`/datasets/{id}/images/{image_id}` → the same with the id converter."""
    return (template.replace("{id}", "{id:bria_emulator_id}").replace("{image_id}", "{image_id:bria_emulator_id}")
            .replace("{step}", "{step:bria_emulator_id}"))


def _api_routes(pipeline: Pipeline, operations: tuple[Operation, ...] = OPERATIONS) -> list[Route]:
    """One route per path serving all of its methods, so that a wrong method is answered
    405 with an `Allow` header naming every method the path has (HEAD is served as GET)."""
    by_template: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for operation in operations:
        if not dialects.serves(pipeline.config.dialect, operation.name):
            continue   # an endpoint this generation of the API does not have: 404
        by_template.setdefault(operation.template, {})[operation.method] = pipeline.endpoint(operation)

    def dispatcher(endpoints: dict[str, Callable[[Request], Awaitable[Response]]]):
        async def dispatch(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            return await endpoints[method](request)
        return dispatch

    return [Route(_starlette_path(template), dispatcher(endpoints), methods=list(endpoints))
            for template, endpoints in by_template.items()]


def _admin_routes(pipeline: Pipeline) -> list[Route]:
    async def stats(_: Request) -> JSONResponse:
        return JSONResponse(pipeline.stats.to_json())

    async def reset(_: Request) -> JSONResponse:
        pipeline.stats.reset()
        return JSONResponse(pipeline.stats.to_json())

    async def generated(request: Request) -> Response:
        # Counted like an API call, so tests can see that a re-run downloads nothing.
        pipeline.stats.count_request(f"GET {generation.GENERATED_ROUTE}/{{id}}")
        image_id = request.path_params["image_id"]
        with pipeline.store.transaction() as db:
            row = generation.generated_file(db, image_id, time.time())
        if row is None:
            return error_response(404, "not found")
        data = genimage.render_png(row["model_id"], row["prompt"], row["seed"], row["aspect_ratio"], row["variant"])
        return Response(data, media_type="image/png")

    return [Route("/_emulator/stats", stats, methods=["GET"]),
            Route("/_emulator/stats/reset", reset, methods=["POST"]),
            Route(f"{generation.GENERATED_ROUTE}/{{image_id:bria_emulator_id}}.png", generated, methods=["GET"])]


def _http_error(config: EmulatorConfig) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """The answer to a path the API does not have (404) or a method it does not serve on
    one (405). Under /v1 and /v2 it takes `latency_ms` like every other API answer: a real
    gateway's 404 costs the round trip too, so a client's existence checks are not free."""
    async def answer(request: Request, exc: Exception) -> JSONResponse:
        if config.latency_ms > 0 and request.url.path.startswith(("/v1/", "/v2/")):
            await asyncio.sleep(config.latency_ms / 1000.0)
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "not found" if status == 404 else ("method not allowed" if status == 405 else str(exc))
        headers = exc.headers if isinstance(exc, HTTPException) else None   # 405 carries Allow
        return error_response(status, message, headers)
    return answer


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A new emulator. With `config.data_path` its data lives in (and survives in) that
    SQLite file; otherwise in memory for the life of the app.

    `app.state.emulator` is the `Pipeline` (its `stats` and `store`), for embedding code
    and tests.
    """
    config = config or EmulatorConfig()
    store = Store(config.data_path)
    pipeline = Pipeline(config, store, settle=functools.partial(images.settle_caption_jobs, dialect=config.dialect))
    api = _api_routes(pipeline)
    v2 = _api_routes(pipeline, V2_OPERATIONS)
    app = Starlette(routes=[Mount("/v1", routes=api), Mount("/v2", routes=v2), *_admin_routes(pipeline)],
                    exception_handlers={HTTPException: _http_error(config)})
    app.state.emulator = pipeline
    return app
