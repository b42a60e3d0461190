"""Fixtures for the API client's tests: the client driven against the emulator, either
in-process (`httpx.ASGITransport`) or over a real loopback socket (`bria emulator serve`).

- `api_harness`: parametrised over asgi-legacy and a real `bria emulator serve` in each
  dialect (legacy, mixed, fibo), with the contract configuration (fixed token list
  `CONTRACT_TOKENS`, short training/caption/stopping times). Each dialect's server is shared
  by the whole session, so server-mode tests must not assume an empty organisation.
  `harness.dialect` names the dialect; its clients speak it.
- `api_harness_factory(mode, **emulator_config)`: a harness with its own emulator.
- `api_image_file(name, width=512, height=512, seed=0)`: a PNG on disk (bytes from
  `fixtures_emulator.make_png`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures_emulator import make_png, start_emulator_server, stop_emulator_server
from reconciler.api import BriaClient

# Distinctive, so a test can assert they never leak into logs or errors.
TOKEN_A = "tok-A-contract-7f3e9c1d55"
TOKEN_B = "tok-B-contract-2b8a4e6f99"
CONTRACT_TOKENS = (TOKEN_A, TOKEN_B)
CONTRACT_CONFIG: dict[str, Any] = {
    "tokens": CONTRACT_TOKENS,
    "training_seconds": 1.0,
    "captions_seconds": 0.3,
    "stopping_seconds": 0.3,
    "seed": 7,
}
# Fast retries in tests; the production defaults wait up to 30 s.
FAST_RETRIES: dict[str, Any] = {"backoff_base": 0.005, "backoff_cap": 0.05}


@dataclass
class ApiHarness:
    """Builds clients for one emulator (in-process `app`, or a server at `base_url`)."""

    mode: str
    base_url: str
    app: Any = None
    clients: list[BriaClient] = field(default_factory=list)
    dialect: str = "legacy"

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=self.app) if self.app is not None else None

    def client(self, token: str = TOKEN_A, **options: Any) -> BriaClient:
        options = {"dialect": self.dialect, **FAST_RETRIES, **options}
        client = BriaClient(self.base_url, token, transport=self._transport(), **options)
        self.clients.append(client)
        return client

    async def emulator_stats(self, reset: bool = False) -> dict[str, Any]:
        """The emulator's own request counters (`/_emulator/stats`)."""
        root = self.base_url.removesuffix("/v1")
        async with httpx.AsyncClient(base_url=root, transport=self._transport()) as admin:
            response = await (admin.post("/_emulator/stats/reset") if reset else admin.get("/_emulator/stats"))
            response.raise_for_status()
            return response.json()

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


def _cli_args(config: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for name, value in config.items():
        if name == "tokens":
            for token in value:
                args += ["--token", token]
        elif isinstance(value, bool):
            args += [f"--{name.replace('_', '-')}"] if value else []
        elif value is not None:
            args += [f"--{name.replace('_', '-')}", str(value)]
    return args


@pytest.fixture(scope="session")
def contract_server_urls():
    """Factory: `contract_server_urls(dialect)` → the base URL of one `bria emulator serve
    --dialect DIALECT` with the contract configuration, started on first use, per session."""
    processes: dict[str, tuple[Any, str]] = {}

    def url(dialect: str = "legacy") -> str:
        if dialect not in processes:
            processes[dialect] = start_emulator_server(*_cli_args({**CONTRACT_CONFIG, "dialect": dialect}))
        return processes[dialect][1]

    yield url
    for process, _ in processes.values():
        stop_emulator_server(process)


@pytest.fixture(scope="session")
def contract_server_url(contract_server_urls):
    """The legacy contract server's base URL."""
    return contract_server_urls("legacy")


@pytest.fixture
async def api_harness_factory(emulator_app, emulator_server):
    harnesses: list[ApiHarness] = []

    def factory(mode: str, **config: Any) -> ApiHarness:
        dialect = config.get("dialect", "legacy")
        if mode == "asgi":
            harness = ApiHarness("asgi", "http://emulator/v1", app=emulator_app(**config), dialect=dialect)
        else:
            harness = ApiHarness("server", emulator_server(*_cli_args(config)), dialect=dialect)
        harnesses.append(harness)
        return harness

    yield factory
    for harness in harnesses:
        await harness.close()


@pytest.fixture(params=["asgi-legacy", "server-legacy", "server-mixed", "server-fibo"])
async def api_harness(request, emulator_app):
    mode, dialect = request.param.split("-")
    if mode == "asgi":
        harness = ApiHarness("asgi", "http://emulator/v1", app=emulator_app(**CONTRACT_CONFIG), dialect=dialect)
    else:
        harness = ApiHarness("server", request.getfixturevalue("contract_server_urls")(dialect), dialect=dialect)
    yield harness
    await harness.close()


@pytest.fixture
def api_image_file(tmp_path):
    """Factory: `api_image_file("a.png", 512, 512, seed=1)` → Path of a PNG written to tmp_path."""

    def factory(name: str, width: int = 512, height: int = 512, seed: int = 0) -> Path:
        path = tmp_path / name
        path.write_bytes(make_png(width, height, seed))
        return path

    return factory


# A token for the leak tests: long and unlike anything else in a log line.
LOG_TOKEN = "tok-LEAKCHECK-9c41f7e2b8d35a60"
