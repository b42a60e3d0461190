"""Fixtures for the bad-input and secrets audits (tests/test_bad_input_cli.py, tests/test_secrets.py).

Everything runs the real `bria` console script in a subprocess, against a real
`bria emulator serve` on loopback, so an audit sees exactly what a user or a pipeline sees.

- `Workspace`: a manifest folder (bria.yaml + images) bound to one emulator server.
  `ws.run(*args)` runs `bria ARGS` there (stdin not a TTY, BRIA_API_URL = the server);
  `ws.snapshot()` hashes every file (state, plans, manifest, images; not the image cache nor
  lock files); `ws.requests()` / `ws.mutations()` read the server's `/_emulator/stats`
  since the last `ws.reset_stats()`.
- `bad_input_server` (module scope): one emulator server shared by a module's tests.
- `applied_workspace`: a copy of a workspace that one `bria apply` brought to life on that
  server (3 images, a model training), with a current saved plan `next.json`;
  `fresh_workspace`: the same manifest, no state.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

import httpx
import pytest

from fixtures_apply import luna_images, luna_yaml, write_case
from fixtures_emulator import start_emulator_server, stop_emulator_server

AUDIT_TOKEN = "bria-audit-token-5e1f0c9a7b3d"


def bria_script() -> str:
    """The installed `bria` console script next to this interpreter (or on PATH)."""
    script = Path(sys.executable).parent / "bria"
    found = str(script) if script.exists() else shutil.which("bria")
    assert found, "the bria console script is not installed (pip install -e .)"
    return found


@dataclass
class Workspace:
    root: Path
    base_url: str
    token: str = AUDIT_TOKEN

    @property
    def manifest(self) -> Path:
        return self.root / "bria.yaml"

    @property
    def state_file(self) -> Path:
        return self.root / "state" / "bria.json"

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIA_")}
        env.update({"BRIA_API_URL": self.base_url, "BRIA_API_TOKEN": self.token, "NO_COLOR": "1"})
        env.update(overrides)
        return env

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([bria_script(), *args], cwd=self.root, env=env or self.env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)

    def run_many(self, commands: Iterable[tuple[str, ...]]) -> list[subprocess.CompletedProcess]:
        """Run independent commands concurrently (only for commands that take no lock)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda args: self.run(*args), commands))

    def invoke(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`bria ARGS` in this process (click's CliRunner, same `main` as the console script):
        for the big matrices, where a subprocess per case would cost minutes."""
        from click.testing import CliRunner

        from reconciler.cli import main

        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BRIA_")}
        previous = os.getcwd()
        os.chdir(self.root)
        try:
            result = CliRunner().invoke(main, list(args), env={**unset, **(env or self.env())})
        finally:
            os.chdir(previous)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)

    def snapshot(self) -> dict[str, str]:
        """rel path → sha256 of every file, except the image hash cache and lock files
        (a lock file is created empty by whoever takes the lock; it holds no state)."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and ".bria" not in path.relative_to(self.root).parts and not rel.endswith(".lock"):
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found

    @property
    def admin_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.admin_url}/_emulator/stats", timeout=10).json()

    def reset_stats(self) -> None:
        httpx.post(f"{self.admin_url}/_emulator/stats/reset", timeout=10).raise_for_status()

    def requests(self) -> int:
        return self.stats()["requests"]

    def mutations(self) -> dict[str, int]:
        """Non-GET requests by endpoint since the last reset."""
        return {endpoint: counts["requests"] for endpoint, counts in self.stats()["by_endpoint"].items()
                if not endpoint.startswith("GET ") and counts["requests"]}


def make_workspace(root: Path, base_url: str, images: int = 3) -> Workspace:
    write_case(root, luna_yaml(), luna_images(images))
    return Workspace(root, base_url)


@pytest.fixture(scope="module")
def bad_input_server():
    """One `bria emulator serve` for a whole test module (training never finishes)."""
    process, base_url = start_emulator_server("--training-seconds", "3600")
    yield base_url
    stop_emulator_server(process)


@pytest.fixture(scope="module")
def applied_template(bad_input_server: str, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = make_workspace(tmp_path_factory.mktemp("applied") / "luna", bad_input_server)
    done = workspace.run("apply", "--auto-approve")
    assert done.returncode == 0, done.stdout + done.stderr
    done = workspace.run("plan", "--out", "next.json")      # a saved plan that is current
    assert done.returncode == 0, done.stdout + done.stderr
    return workspace


@pytest.fixture
def applied_workspace(applied_template: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the applied workspace; the server's request counters are reset."""
    root = tmp_path / "luna"
    shutil.copytree(applied_template.root, root, ignore=shutil.ignore_patterns("*.lock"))
    workspace = Workspace(root, applied_template.base_url)
    workspace.reset_stats()
    return workspace


@pytest.fixture
def fresh_workspace(bad_input_server: str, tmp_path: Path) -> Workspace:
    # An account of its own (one per test): in an account where another workspace applied,
    # its project would be an untracked look-alike, and plan/apply would refuse a duplicate.
    workspace = replace(make_workspace(tmp_path / "fresh", bad_input_server),
                        token=f"{AUDIT_TOKEN}-fresh-{uuid.uuid4().hex[:8]}")
    workspace.reset_stats()
    return workspace
