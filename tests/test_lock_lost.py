"""A run whose PostgreSQL state lock was force-unlocked makes no further mutating API call.

`StateStore.check_lock()` is a no-op for the local backend and one query on the lock's own
connection for PostgreSQL; the executor calls it before every mutating call. Shown three ways:
the store alone; the executor with a real PostgreSQL store and the emulator, force-unlocked
while its first upload is in flight (later uploads already hold journal entries and would go
straight out); and the real `bria apply` frozen with SIGSTOP, force-unlocked with
`bria force-unlock`, then resumed: exit 3, a clear message, no new mutating request.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
from fixtures_apply import TOKEN, load, luna_images, luna_yaml, run_bria, write_case
from fixtures_emulator import EMULATOR_BASE_URL

from reconciler.state.local import LocalStateStore
from reconciler.state.postgres import PostgresStateStore
from reconciler.state.store import LockLost


def test_the_local_lock_check_is_a_no_op(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "s.json")
    store.check_lock()                      # not locked: nothing to lose
    store.lock("test")
    store.check_lock()
    store.close()


@pytest.mark.postgres
def test_the_postgres_lock_check_sees_a_force_unlock(pg_dsn: str, pg_workspace: str) -> None:
    holder, other = PostgresStateStore(pg_dsn, pg_workspace), PostgresStateStore(pg_dsn, pg_workspace)
    try:
        holder.check_lock()                 # not locked yet
        info = holder.lock("apply")
        holder.check_lock()                 # held: passes (the positive control)
        other.force_unlock(info.id)
        with pytest.raises(LockLost, match=f"lost the lock {info.id} on PostgreSQL state workspace"):
            holder.check_lock()
        assert pg_dsn not in str(LockLost)
    finally:
        other.close()
        holder.close()


class _ForceUnlockOnFirstUpload(httpx.AsyncBaseTransport):
    """In front of the emulator: when the first upload arrives, another process's
    `force-unlock` ends the holder's session (then the upload goes through, as one already in
    flight would). Records every mutating request after that moment."""

    def __init__(self, inner: httpx.AsyncBaseTransport, dsn: str, workspace: str, lock_id: str):
        self.inner, self.dsn, self.workspace, self.lock_id = inner, dsn, workspace, lock_id
        self.unlocked = False
        self.after: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        mutating = request.method != "GET"
        if mutating and self.unlocked:
            self.after.append(f"{request.method} {request.url.path}")
        if mutating and not self.unlocked and request.url.path.endswith("/images"):
            await asyncio.to_thread(self._force_unlock)
            self.unlocked = True
        return await self.inner.handle_async_request(request)

    def _force_unlock(self) -> None:
        other = PostgresStateStore(self.dsn, self.workspace)
        try:
            other.force_unlock(self.lock_id)
        finally:
            other.close()


@pytest.mark.postgres
async def test_the_executor_stops_before_any_call_once_the_lock_is_gone(tmp_path: Path, bria_env, pg_dsn: str,
                                                                       pg_workspace: str) -> None:
    from reconciler.api import BriaClient

    store = PostgresStateStore(pg_dsn, pg_workspace)
    env = bria_env(store=store)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(4)))
    plan = await env.plan(manifest)
    lock_id = store._held.id          # the holder's lock id, as `bria force-unlock` is given it
    proxy = _ForceUnlockOnFirstUpload(httpx.ASGITransport(app=env.app), pg_dsn, pg_workspace, lock_id)
    async with BriaClient(base_url=EMULATOR_BASE_URL, token=TOKEN, transport=proxy) as client:
        result = await env.apply(plan, manifest, client=client, parallelism=1)
    assert proxy.unlocked
    assert proxy.after == [], f"mutating calls after the force-unlock: {proxy.after}"
    assert result.fatal and not result.ok


def _lock_id(dsn: str, workspace: str) -> str | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT lock_info->>'id' FROM bria_state WHERE workspace = %s", (workspace,)).fetchone()
    return row[0] if row else None


def _mutations(url: str) -> dict[str, int]:
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats", timeout=10).json()
    return {e: c["requests"] for e, c in stats["by_endpoint"].items() if not e.startswith("GET ") and c["requests"]}


@pytest.mark.postgres
@pytest.mark.slow
def test_a_frozen_apply_that_was_force_unlocked_exits_3_without_calling_the_api(
        tmp_path: Path, emulator_server, pg_dsn: str, pg_workspace: str) -> None:
    url = emulator_server("--latency-ms", "150", "--training-seconds", "600")
    env = {**os.environ, "BRIA_API_URL": url, "BRIA_API_TOKEN": TOKEN, "NO_COLOR": "1", "BRIA_PG_DSN": pg_dsn}
    yaml = luna_yaml() + f"state:\n  backend: postgres\n  dsn_env: BRIA_PG_DSN\n  workspace: {pg_workspace}\n"
    write_case(tmp_path, yaml, luna_images(12))
    process = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "1"],
                               cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if "uploaded" in line:
                process.send_signal(signal.SIGSTOP)
                break
        lock_id = _lock_id(pg_dsn, pg_workspace)
        assert lock_id, "the running apply recorded no lock"
        unlocked = run_bria("force-unlock", lock_id, cwd=tmp_path, env={"BRIA_PG_DSN": pg_dsn, "BRIA_API_URL": url})
        assert unlocked.returncode == 0, unlocked.stdout + unlocked.stderr
        before = _mutations(url)
    finally:
        process.send_signal(signal.SIGCONT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 3, out + err
    assert f"lost the lock {lock_id}" in err and "makes no further API change" in err, err
    assert "Traceback" not in err
    # At most the one call that had started (lock checked) when the process froze may arrive
    # after the force-unlock; the uploads waiting for its slot (journaled already) must not.
    after = _mutations(url)
    new = {e: after.get(e, 0) - before.get(e, 0) for e in after if after.get(e, 0) != before.get(e, 0)}
    assert sum(new.values()) <= 1, f"the resumed run called the API after losing its lock: {new}"
    rerun = run_bria("apply", "--auto-approve", cwd=tmp_path, env={"BRIA_PG_DSN": pg_dsn, "BRIA_API_URL": url})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
