"""The client's OutcomeUnknown contract seen from an apply: a create answered 5xx that
commits late, or answered 2xx with an undecodable body, is never made twice; the journal
keeps it until a later run finds it (emulator knobs late_commit_rate / garbled_rate)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fixtures_api import FAST_RETRIES
from fixtures_apply import assert_no_duplicates, load, luna_images, luna_yaml, write_case
from reconciler.executor import RealClock


@pytest.mark.parametrize("knobs", [{"late_commit_rate": 0.5, "late_commit_delay": 0.05},
                                   {"garbled_rate": 0.5}])
async def test_maybe_committed_creates_converge_without_duplicates(bria_env, tmp_path, knobs):
    env = bria_env(seed=4, **knobs)
    manifest = load(write_case(tmp_path / "case", luna_yaml(train=False), luna_images(3)))
    outcomes = []
    for _ in range(15):
        # The emulator's late commit lands in real time, so the journal's settle window must
        # run on the real clock too (the fixture's instant clock would end it at once).
        result = await env.apply(await env.plan(manifest), manifest, client=env.client(**FAST_RETRIES),
                                 clock=RealClock(), settle_window=0.5)
        outcomes.append(result.ok)
        await asyncio.sleep(0.15)                       # let late commits land
        if result.ok:
            break
    assert outcomes[-1] is True and len(outcomes) <= 10  # converged…
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url="http://emulator") as admin:
        stats = (await admin.get("/_emulator/stats")).json()
    assert stats["late_commits"] + stats["garbled"] >= 3  # …although the knob bit several times
    assert_no_duplicates(await env.remote(), env.current_state())
    assert not (await env.plan(manifest)).has_changes
