"""Fixtures for the executor / apply tests.

- `write_case(root, manifest_yaml, images)`: a manifest folder with generated images
  (`images` maps relative path → seed, or → (seed, caption) for a sidecar .txt caption).
- `load(path)`: the Manifest, asserting it is valid.
- `bria_env`: one in-process emulator + a BriaClient over ASGITransport + a locked local
  state store; `await env.apply(plan, manifest)` executes a plan; `await env.plan(manifest)`
  runs journal resolution + refresh + planner like `bria apply` does; `await env.remote()`
  reads every remote object through the raw API (for duplicate checks).
- `InstantClock`: sleeps return at once and advance its monotonic time.
- `run_bria(*args, cwd, env)`: the CLI in a subprocess.
- `cli_backend`: parametrised over the state backends ("local", "postgres") for CLI tests:
  `cli_backend.write_case(root, yaml, images)` writes the manifest with the backend's
  `state:` block, `cli_backend.env` is what `run_bria` needs, `cli_backend.read_state(root)`
  reads (and parses) the state that manifest's runs wrote, in either backend.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures_emulator import EMULATOR_BASE_URL, make_png
from fixtures_state import PG_DSN_ENV

TOKEN = "token-apply-tests"

LUNA_YAML = """\
version: 1
projects:
  luna:
    name: StoryCharacter_Luna
    description: Heroine of the picture books
    ip_type: defined_character
    ip_medium: illustration
    ip_name: Luna
    ip_description: girl with blue hair
datasets:
  luna_v1:
    project: luna
    name: Luna training set
    images:
      - folder: images/luna
    complete: {complete}
models:
  luna_max:
    dataset: luna_v1
    name: Luna max
    training_version: max
    training_mode: fully_automated
    train: {train}
"""


def luna_yaml(*, complete: bool = True, train: bool = True) -> str:
    return LUNA_YAML.format(complete=str(complete).lower(), train=str(train).lower())


def write_case(root: Path, manifest_yaml: str, images: dict[str, Any], size: int = 256) -> Path:
    """Write `bria.yaml` and its images under `root`; returns the manifest path."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, spec in images.items():
        seed, caption = spec if isinstance(spec, tuple) else (spec, None)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_png(size, size, seed))
        if caption is not None:
            path.with_suffix(".txt").write_text(caption, encoding="utf-8")
    manifest = root / "bria.yaml"
    manifest.write_text(manifest_yaml, encoding="utf-8")
    return manifest


def with_sol_project(manifest_yaml: str) -> str:
    """`manifest_yaml` plus a second, independent project `sol` with dataset `sol_v1`
    (images from `images/sol`), for tests where one project fails and the other must not."""
    return manifest_yaml.replace("datasets:\n", """\
  sol:
    name: Sol
    ip_type: stylized_scene
    ip_medium: photography
datasets:
  sol_v1:
    project: sol
    name: Sol set
    images:
      - folder: images/sol
""")


def luna_images(count: int, first_seed: int = 1) -> dict[str, int]:
    return {f"images/luna/luna_{i:03d}.png": first_seed + i for i in range(count)}


def load(path: Path) -> Any:
    from reconciler.manifest import load_manifest

    manifest, diagnostics = load_manifest(path)
    assert manifest is not None, "\n".join(str(d) for d in diagnostics)
    return manifest


class InstantClock:
    """A clock whose sleeps return at once (after yielding) and advance its time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.now, timezone.utc).isoformat(timespec="seconds")

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0.01)


@dataclass
class BriaEnv:
    app: Any
    store: Any
    state: Any = None
    clients: list[Any] = field(default_factory=list)
    live: Any = None
    dialect: str = "legacy"          # the emulator's; clients speak it

    def client(self, **kw: Any) -> Any:
        from reconciler.api import BriaClient

        kw.setdefault("dialect", self.dialect)
        client = BriaClient(base_url=EMULATOR_BASE_URL, token=TOKEN, transport=httpx.ASGITransport(app=self.app),
                            **kw)
        self.clients.append(client)
        return client

    def current_state(self) -> Any:
        from reconciler.state.model import State

        return self.store.read() or State.empty()

    async def apply(self, plan: Any, manifest: Any, **kw: Any) -> Any:
        from reconciler.executor import apply_plan

        from reconciler.executor.context import RunConfig

        kw.setdefault("clock", InstantClock())
        settings = {k: kw.pop(k) for k in ("parallelism", "poll_interval", "kill_after_calls", "settle_window")
                    if k in kw}
        kw.setdefault("config", RunConfig(**{"poll_interval": 0.05, "settle_window": 0.5, **settings}))
        kw.setdefault("live", self.live)        # the refresh of the last env.plan (journal watermarks)
        return await apply_plan(plan, manifest, self.current_state(), client=kw.pop("client", None) or self.client(),
                                store=self.store, **kw)

    async def plan(self, manifest: Any, **kw: Any) -> Any:
        """Journal resolution + refresh + plan, as `bria apply` does before executing."""
        from reconciler.executor import resolve_leftovers
        from reconciler.executor.context import RunConfig
        from reconciler.executor.import_preview import pending_import_records
        from reconciler.planner import plan as make_plan
        from reconciler.refresh import refresh
        client = self.client()
        state = (await resolve_leftovers(self.current_state(), client=client, store=self.store, manifest=manifest,
                                         clock=InstantClock(),
                                         config=RunConfig(settle_window=kw.pop("settle_window", 0.5)))).state
        live = self.live = await refresh(client, state)
        kw.setdefault("imported", await pending_import_records(manifest, state, client))
        return make_plan(manifest, state, live, **kw)

    async def converge(self, manifest: Any, **kw: Any) -> Any:
        """Plan and apply once; returns the ApplyResult."""
        return await self.apply(await self.plan(manifest), manifest, **kw)

    async def remote(self) -> dict[str, Any]:
        """Every remote object of our organisation, read with raw HTTP."""
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=EMULATOR_BASE_URL,
                                     headers={"api_token": TOKEN}) as raw:
            return await read_remote(raw)


async def _get(raw: httpx.AsyncClient, path: str) -> Any:
    """GET that outlasts injected faults and rate limits (the raw client has no retries)."""
    for _ in range(50):
        response = await raw.get(path)
        if response.status_code == 200:
            return response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"GET {path} kept failing: {response.status_code} {response.text}")


async def read_remote(raw: httpx.AsyncClient) -> dict[str, Any]:
    projects = await _get(raw, "/tailored-gen/projects")
    datasets = await _get(raw, "/tailored-gen/datasets")
    models = await _get(raw, "/tailored-gen/models")
    images = {d["id"]: await _get(raw, f"/tailored-gen/datasets/{d['id']}/images") for d in datasets}
    return {"projects": projects, "datasets": datasets, "models": models, "images": images}


def assert_no_duplicates(remote: dict[str, Any], state: Any) -> None:
    """Every remote object is one that state records — so nothing was created twice and
    nothing is orphaned — and no image name appears twice in a dataset.

    (State may still list a dataset version deleted outside bria: the planner recreates the
    dataset without FORGETting the dead version, which is harmless.)
    """
    assert sorted(p["id"] for p in remote["projects"]) == sorted(r.remote_id for r in state.projects.values())
    versions = {v.remote_id: v for r in state.datasets.values() for v in r.versions}
    assert {d["id"] for d in remote["datasets"]} <= set(versions), "datasets not recorded in state"
    currents = {r.current.remote_id for r in state.datasets.values() if r.current}
    assert currents <= {d["id"] for d in remote["datasets"]}, "current dataset versions missing remotely"
    models = [m.remote_id for m in state.models.values()] + [
        s.remote_id for m in state.models.values() for s in m.superseded]
    assert sorted(m["id"] for m in remote["models"]) == sorted(models), "unrecorded or missing models"
    for dataset_id, images in remote["images"].items():
        image_names = [i["image_name"] for i in images]
        assert len(image_names) == len(set(image_names)), f"duplicate images in dataset {dataset_id}"
        recorded = sorted(r.remote_id for r in versions[dataset_id].images.values())
        assert sorted(i["id"] for i in images) == recorded, f"unrecorded images in dataset {dataset_id}"


@pytest.fixture
def bria_env(tmp_path: Path, emulator_app: Any) -> Any:
    """Factory: `bria_env(**emulator_config)` → BriaEnv with a locked local state store."""
    from reconciler.state.local import LocalStateStore

    envs: list[BriaEnv] = []

    def factory(store: Any = None, **config: Any) -> BriaEnv:
        config.setdefault("training_seconds", 0.3)
        config.setdefault("captions_seconds", 0.1)
        config.setdefault("stopping_seconds", 0.1)
        if store is None:
            store = LocalStateStore(tmp_path / f"state{len(envs)}" / "bria.json")
        store.lock("pytest")
        env = BriaEnv(emulator_app(**config), store, dialect=config.get("dialect", "legacy"))
        envs.append(env)
        return env

    yield factory
    for env in envs:
        env.store.unlock()


def run_bria(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
             stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """Run `python -m reconciler ARGS` in `cwd`; stdin is not a TTY."""
    full_env = {**os.environ, "BRIA_API_TOKEN": TOKEN, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd, env=full_env, stdin=stdin,
                          capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class CliBackend:
    """The state backend a CLI test runs `bria` with. "local": `state/bria.json` beside the
    manifest (the default). "postgres": the manifest names the backend, the DSN variable
    and a workspace of its own — one per manifest folder, unique to the test."""

    name: str
    dsn: str = ""
    prefix: str = ""

    @property
    def env(self) -> dict[str, str]:
        """Environment `run_bria` needs for this backend (the DSN, read via `state.dsn_env`)."""
        return {PG_DSN_ENV: self.dsn} if self.name == "postgres" else {}

    def workspace(self, root: Path) -> str:
        return f"{self.prefix}-{root.name}"

    def manifest_yaml(self, root: Path, manifest_yaml: str) -> str:
        if self.name == "local":
            return manifest_yaml
        return manifest_yaml + (f"state:\n  backend: postgres\n  dsn_env: {PG_DSN_ENV}\n"
                                f"  workspace: {self.workspace(root)}\n")

    def write_case(self, root: Path, manifest_yaml: str, images: dict[str, Any], size: int = 256) -> Path:
        return write_case(root, self.manifest_yaml(root, manifest_yaml), images, size)

    def row(self, root: Path) -> dict[str, Any] | None:
        """PostgreSQL only: the workspace's row (serial, lineage, state, lock_info), or None."""
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('bria_state')").fetchone()[0] is None:
                return None
            row = conn.execute("SELECT serial, lineage, state, lock_info FROM bria_state WHERE workspace = %s",
                               (self.workspace(root),)).fetchone()
        return None if row is None else dict(zip(("serial", "lineage", "state", "lock_info"), row))

    def state_document(self, root: Path) -> dict[str, Any] | None:
        """The stored state as parsed JSON, None when nothing was written yet."""
        if self.name == "local":
            path = root / "state" / "bria.json"
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        row = self.row(root)
        if row is None or row["state"] is None:
            return None
        assert row["serial"] == row["state"]["serial"] and row["lineage"] == row["state"]["lineage"], row
        return row["state"]

    def read_state(self, root: Path) -> Any:
        """The stored State as bria reads it (snapshot and any changes after it; it must
        parse), or None."""
        if self.name == "local":
            from reconciler.state.local import LocalStateStore

            return LocalStateStore(root / "state" / "bria.json").read()
        from reconciler.state.postgres import PostgresStateStore

        store = PostgresStateStore(self.dsn, self.workspace(root))
        try:
            return store.read()
        finally:
            store.close()


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli_backend(request: pytest.FixtureRequest) -> CliBackend:
    if request.param == "local":
        return CliBackend("local")
    return CliBackend("postgres", request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_workspace"))
