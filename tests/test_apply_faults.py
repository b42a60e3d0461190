"""Apply under a hostile API: 10% server errors, 10% of mutations committed with their
response lost, and a per-endpoint rate limit. A 100-image manifest must converge — possibly
over a few runs, each ending "partly done" (exit 5) — with no duplicate anywhere. Runs with
each state backend (local file, PostgreSQL), and for a FIBO dataset (visual_schema: auto)
against the fibo dialect (local file only: the executor's logic is the same for both)."""

from __future__ import annotations

import httpx
import pytest

from fixtures_apply import TOKEN, assert_no_duplicates, load, luna_images, luna_yaml, write_case
from fixtures_emulator import EMULATOR_BASE_URL


FIBO_YAML = luna_yaml().replace("    complete: true", "    visual_schema: auto\n    complete: true").replace(
    "    training_version: max\n", "")


@pytest.mark.slow
async def test_hundred_images_converge_under_faults_drops_and_rate_limits(tmp_path, bria_env, state_store_factory):
    env = bria_env(store=state_store_factory(), fault_rate=0.1, drop_rate=0.1, rate_limit=3000, rate_burst=10,
                   seed=11)
    await _converges_with_no_duplicates(env, load(write_case(tmp_path / "m", luna_yaml(), luna_images(100))))


@pytest.mark.slow
async def test_fibo_dataset_converges_under_faults_drops_and_rate_limits(tmp_path, bria_env):
    env = bria_env(dialect="fibo", fault_rate=0.1, drop_rate=0.1, rate_limit=3000, rate_burst=10, seed=12)
    await _converges_with_no_duplicates(env, load(write_case(tmp_path / "m", FIBO_YAML, luna_images(100))))
    version = env.current_state().datasets["luna_v1"].current
    assert version.visual_schema and {i.caption_source for i in version.images.values()} == {"automatic"}


async def _converges_with_no_duplicates(env, manifest) -> None:
    runs = []
    for _ in range(8):
        result = await env.converge(manifest)
        runs.append(result)
        if result.ok:
            break
    assert runs[-1].ok, [o for o in runs[-1].outcomes if o.status != "succeeded"]

    remote = await env.remote()
    assert_no_duplicates(remote, env.current_state())
    assert sum(len(images) for images in remote["images"].values()) == 100
    assert len(remote["models"]) == 1 and env.current_state().journal == ()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url=EMULATOR_BASE_URL,
                                 headers={"api_token": TOKEN}) as raw:
        stats = (await raw.get("http://emulator/_emulator/stats")).json()
    # The hostile conditions really happened.
    assert stats["faults"] > 0 and stats["dropped"] > 0 and stats["rate_limited"] > 0, stats
    # Pass a clean API to check there is nothing left to do.
    assert not (await env.plan(manifest)).has_changes
