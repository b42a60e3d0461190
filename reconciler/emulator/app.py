"""`create_app(config)`: the emulator as an ASGI app.

The API lives under `/v1` (every route from api-contract.md, generation A); the admin
endpoints `/_emulator/stats` (GET) and `/_emulator/stats/reset` (POST) sit outside it and
need no token. Unknown paths and wrong methods are answered `{"error": ...}` like the rest.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from reconciler.emulator import datasets, images, models, prefixes, projects
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.routing import Operation, Pipeline, error_response
from reconciler.emulator.store import Store

OPERATIONS: tuple[Operation, ...] = (
    *projects.OPERATIONS, *datasets.OPERATIONS, *images.OPERATIONS, *prefixes.OPERATIONS, *models.OPERATIONS,
)


def _starlette_path(template: str) -> str:
    """`/datasets/{id}/images/{image_id}` → the same with integer converters, so a
    non-integer id is simply an unknown path (404)."""
    return template.replace("{id}", "{id:int}").replace("{image_id}", "{image_id:int}")


def _admin_routes(pipeline: Pipeline) -> list[Route]:
    async def stats(_: Request) -> JSONResponse:
        return JSONResponse(pipeline.stats.to_json())

    async def reset(_: Request) -> JSONResponse:
        pipeline.stats.reset()
        return JSONResponse(pipeline.stats.to_json())

    return [Route("/_emulator/stats", stats, methods=["GET"]),
            Route("/_emulator/stats/reset", reset, methods=["POST"])]


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "not found" if status == 404 else ("method not allowed" if status == 405 else str(exc))
    return error_response(status, message)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A new emulator. With `config.data_path` its data lives in (and survives in) that
    SQLite file; otherwise in memory for the life of the app.

    `app.state.emulator` is the `Pipeline` (its `stats` and `store`), for embedding code
    and tests.
    """
    config = config or EmulatorConfig()
    store = Store(config.data_path)
    pipeline = Pipeline(config, store, settle=images.settle_caption_jobs)
    api = [Route(_starlette_path(op.template), pipeline.endpoint(op), methods=[op.method]) for op in OPERATIONS]
    app = Starlette(routes=[Mount("/v1", routes=api), *_admin_routes(pipeline)],
                    exception_handlers={HTTPException: _http_error})
    app.state.emulator = pipeline
    return app
