"""The journal's project watermark (executor/account.py).

A project create's entry records what the account held just before the call. Projects are
listed right before the create, unless the refresh's own project list is less than
FRESH_LIST_SECONDS old (an apply with --auto-approve and a quick plan): then it is the
watermark, once — a second project create lists afresh. Through `bria apply`, the
fresh-apply path makes no project list besides the refresh's.
"""

from __future__ import annotations

import time
from dataclasses import replace

import httpx

from fixtures_apply import luna_images, luna_yaml, run_bria, write_case
from fixtures_emulator import EMULATOR_BASE_URL
from reconciler.api import BriaClient
from reconciler.executor.account import FRESH_LIST_SECONDS, AccountView
from reconciler.refresh import refresh
from reconciler.state.model import State

LIST_PROJECTS = "GET /tailored-gen/projects"


async def _call(method, *args):
    return await method(*args)


async def _view(client: BriaClient, answered_ago: float) -> AccountView:
    live = await refresh(client, State.empty())
    return AccountView(replace(live, projects_listed=time.monotonic() - answered_ago))


def _project_lists(client: BriaClient) -> int:
    stats = client.stats.by_endpoint.get(LIST_PROJECTS)
    return stats.requests if stats is not None else 0


async def test_a_refresh_list_under_a_second_old_is_the_first_watermark(emulator_app):
    app = emulator_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=EMULATOR_BASE_URL,
                                 headers={"api_token": "token-wm"}) as raw:
        existing = (await raw.post("/tailored-gen/projects", json={
            "project_name": "Luna", "ip_type": "other", "ip_medium": "photography"})).json()
    async with BriaClient(base_url=EMULATOR_BASE_URL, token="token-wm",
                          transport=httpx.ASGITransport(app=app)) as client:
        view = await _view(client, answered_ago=0.0)
        mark = await view.watermark("project", "Luna", None, _call, client)
        assert _project_lists(client) == 1                   # the refresh's only
        assert mark == {"seen_max_id": existing["id"], "preexisting": [existing["id"]]}
        await view.watermark("project", "Sol", None, _call, client)
        assert _project_lists(client) == 2                   # a second create lists afresh


async def test_an_older_refresh_list_is_listed_again(emulator_app):
    async with BriaClient(base_url=EMULATOR_BASE_URL, token="token-wm",
                          transport=httpx.ASGITransport(app=emulator_app())) as client:
        view = await _view(client, answered_ago=FRESH_LIST_SECONDS)
        await view.watermark("project", "Luna", None, _call, client)
        assert _project_lists(client) == 2
        no_timing = AccountView(await refresh(client, State.empty()))
        no_timing._projects_listed = None                    # e.g. a saved plan's view
        await no_timing.watermark("project", "Luna", None, _call, client)
        assert _project_lists(client) == 4


def test_a_quick_auto_approved_apply_lists_projects_once(tmp_path, emulator_server):
    """The refresh's (shared) project list is the watermark; the run makes no other."""
    url = emulator_server("--latency-ms", "100", "--training-seconds", "600")
    root = write_case(tmp_path / "m", luna_yaml(train=False), luna_images(2))
    result = run_bria("apply", "--auto-approve", cwd=root.parent, env={"BRIA_API_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()["by_endpoint"]
    assert stats[LIST_PROJECTS]["requests"] == 1
    assert stats["POST /tailored-gen/projects"]["requests"] == 1
