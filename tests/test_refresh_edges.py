"""Refresh where the real API may differ from the emulator's defaults: lists that stop
short (confirm by GET before "deleted outside bria"), models soft-deleted to status
`Deleted`, and model statuses bria does not know (the planner and --wait leave them alone)."""

from __future__ import annotations

import re

import httpx

from fixtures_apply import TOKEN, assert_no_duplicates, load, luna_images, luna_yaml, write_case
from fixtures_emulator import EMULATOR_BASE_URL
from fixtures_proxy import JsonRewriter
from reconciler.executor.summary import summary_lines
from reconciler.planner import plan as make_plan
from reconciler.refresh import is_live_model, refresh
from reconciler.status import is_known

LISTS = ("/tailored-gen/projects", "/tailored-gen/datasets", "/tailored-gen/models")
MODEL_BY_ID = re.compile(r"^/tailored-gen/models/\d+$")


async def _stats(env, reset: bool = False) -> dict:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url="http://emulator") as admin:
        response = await (admin.post("/_emulator/stats/reset") if reset else admin.get("/_emulator/stats"))
        return response.json()


def _gets(stats: dict) -> dict[str, int]:
    return {k: v["requests"] for k, v in stats["by_endpoint"].items() if k.startswith("GET")}


async def _converged(env, tmp_path, **yaml):
    manifest = load(write_case(tmp_path / "case", luna_yaml(**yaml), luna_images(2)))
    result = await env.converge(manifest)
    assert result.ok, summary_lines(result)
    return manifest


async def test_a_list_that_stops_short_is_confirmed_by_get_and_nothing_looks_deleted(bria_env, tmp_path):
    env = bria_env()
    manifest = await _converged(env, tmp_path, train=False)
    state = env.current_state()
    emulator = env.app
    await _stats(env, reset=True)
    live = await refresh(env.client(), state)                       # nothing missing: the three lists only
    assert live.requests == 3 and sum(_gets(await _stats(env)).values()) == 3

    env.app = JsonRewriter(emulator, lambda method, path, value: [] if path in LISTS else value)
    await _stats(env, reset=True)
    live = await refresh(env.client(), state)
    assert _gets(await _stats(env)) == {                            # one GET per missing object
        "GET /tailored-gen/projects": 1, "GET /tailored-gen/datasets": 1, "GET /tailored-gen/models": 1,
        "GET /tailored-gen/projects/{id}": 1, "GET /tailored-gen/datasets/{id}": 1,
        "GET /tailored-gen/models/{id}": 1}
    assert live.requests == 6
    the_plan = make_plan(manifest, state, live)
    assert not the_plan.has_changes and not the_plan.drift


async def test_a_soft_deleted_model_is_gone_not_alive(bria_env, tmp_path):
    env = bria_env(soft_delete_models=True)
    manifest = await _converged(env, tmp_path, train=False)
    state = env.current_state()
    model_id = state.models["luna_max"].remote_id
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url=EMULATOR_BASE_URL,
                                 headers={"api_token": TOKEN}) as raw:
        assert (await raw.delete(f"/tailored-gen/models/{model_id}")).status_code == 204
        listed = (await raw.get("/tailored-gen/models")).json()
    assert [m["status"] for m in listed] == ["Deleted"]              # still listed, as Gen A documents
    assert not is_live_model(listed[0]) and is_live_model({"status": "Created"})
    live = await refresh(env.client(), state)
    assert model_id not in live.models and live.requests == 4          # + the confirming GET (Deleted too)
    the_plan = make_plan(manifest, state, live)
    change = next(c for c in the_plan.changes if c.address == "model.luna_max")
    assert change.reason == "recreate_because_deleted_outside_bria"
    assert [d.address for d in the_plan.drift] == ["model.luna_max"]


def _status_as(unknown: str):
    def rewrite(method: str, path: str, value):
        if path == "/tailored-gen/models" or MODEL_BY_ID.match(path):
            items = value if isinstance(value, list) else [value]
            for item in items:
                item["status"] = unknown
        return value
    return rewrite


async def test_an_unknown_model_status_is_never_acted_on(bria_env, tmp_path):
    env = bria_env()
    manifest = await _converged(env, tmp_path, train=False)
    env.app = JsonRewriter(env.app, _status_as("Archived\x1b[2J"))
    state = env.current_state()
    live = await refresh(env.client(), state)
    assert not is_known(live.models[state.models["luna_max"].remote_id]["status"])
    wants_training = load(write_case(tmp_path / "case", luna_yaml(train=True), luna_images(2)))
    for desired in (manifest, wants_training, load(write_case(tmp_path / "gone", luna_yaml().split("models:")[0],
                                                              luna_images(2)))):
        the_plan = make_plan(desired, state, live)
        assert "model.luna_max" not in {c.address for c in the_plan.changes}
        notes = [n for n in the_plan.notes if "model.luna_max" in n]
        assert notes and "'Archived\\x1b[2J'" in notes[0] and "does not know" in notes[0]


async def test_wait_stops_following_an_unknown_status_and_reports_it(bria_env, tmp_path):
    env = bria_env(training_seconds=3600)
    manifest = load(write_case(tmp_path / "case", luna_yaml(train=True), luna_images(2)))
    the_plan = await env.plan(manifest)
    emulator = env.app
    env.app = JsonRewriter(emulator, lambda m, path, value: _status_as("Paused")(m, path, value)
                           if m == "GET" else value)
    result = await env.apply(the_plan, manifest, wait=True)          # returns: no polling forever
    assert result.training == {"model.luna_max": "Paused"} and result.training_failed == ["model.luna_max"]
    assert not result.ok
    assert any("status 'Paused', which bria does not know" in line for line in summary_lines(result))
    assert env.current_state().models["luna_max"].status == "InProgress"   # never recorded
    env.app = emulator
    assert_no_duplicates(await env.remote(), env.current_state())
