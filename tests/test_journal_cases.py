"""The journal's edge cases from issue 10 — each fails on the journal before it was fixed.

- case 2: a 2xx whose body cannot be decoded, on every POST (gateway proxy): adopted, no duplicate;
- case 3: a 504 whose commit lands later, on every POST: found within the settle window;
- ambiguity: two look-alikes appeared after an entry was written: adopt none, say which, exit
  5; `bria import` settles it;
- case 8: a cancel between the two calls of COMPLETE_DATASET still records the completion;
- a model is created while its completed dataset is re-read, and a re-read that fails after
  the model exists is resolved by the next run;
- case 9: entries only while the call holds its slot (≤ parallelism), and recovery lists
  each dataset's images once;
- case 12: a replacement's leftovers (kill right after CREATE_MODEL / DELETE_MODEL of a
  never-trained predecessor) are resolved: one model left, no record of a gone one;
- soft-deleted (`Deleted`) models are never adoptable.
The CLI cases run through `bria emulator serve` and its fault knobs.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from fixtures_apply import assert_no_duplicates, load, luna_images, luna_yaml, write_case
from fixtures_emulator import EMULATOR_BASE_URL
from fixtures_faultproxy import SHARED_TOKEN, account, bria
from reconciler.executor import resolve_leftovers
from reconciler.model import Op
from reconciler.planner.journal_match import match
from reconciler.state.model import JournalEntry, State

NO_TRAIN_YAML = luna_yaml(train=False)


def _read_state(root: Path) -> State:
    return State.from_dict(json.loads((root / "state" / "bria.json").read_text()))


def _assert_one_of_each(url: str, root: Path, models: int = 1) -> None:
    live = account(url, SHARED_TOKEN)
    state = _read_state(root)
    assert state.journal == ()
    assert len(live["projects"]) == 1 and len(live["datasets"]) == 1 and len(live["models"]) == models, live
    for images in live["images"].values():
        names = [i["image_name"] for i in images]
        assert len(names) == len(set(names)) == 2, names


def _stats(url: str) -> dict[str, Any]:
    return httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()


def test_case2_undecodable_2xx_to_every_mutation_is_adopted_not_duplicated(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600", "--garbled-rate", "1")
    root = write_case(tmp_path / "m", luna_yaml(), luna_images(2)).parent
    applied = bria(root, url, "apply", "--auto-approve", "--settle-window", "1")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert _stats(url)["garbled"] >= 6             # project, dataset, 2 uploads, complete, model, start
    _assert_one_of_each(url, root)
    assert bria(root, url, "plan", "--detailed-exitcode").returncode == 0


def test_case3_a_5xx_that_commits_later_is_found_within_the_settle_window(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600", "--late-commit-rate", "1", "--late-commit-delay", "0.4")
    root = write_case(tmp_path / "m", luna_yaml(), luna_images(2)).parent
    applied = bria(root, url, "apply", "--auto-approve", "--settle-window", "3")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert _stats(url)["late_committed"] >= 6
    _assert_one_of_each(url, root)
    assert bria(root, url, "plan", "--detailed-exitcode").returncode == 0


def test_two_lookalikes_after_the_entry_adopt_none_and_import_settles_it(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    root = write_case(tmp_path / "m", NO_TRAIN_YAML, luna_images(1)).parent
    with httpx.Client(base_url=url, headers={"api_token": SHARED_TOKEN}) as raw:
        older = raw.post("/tailored-gen/projects", json=_project_body()).json()["id"]
        entry = JournalEntry("e1", Op.CREATE_PROJECT.value, "project.luna", "StoryCharacter_Luna", None,
                             {"fields": {}, "seen_max_id": older, "preexisting": [older]}, "2020-01-01T00:00:00+00:00")
        (root / "state").mkdir()
        (root / "state" / "bria.json").write_text(json.dumps(State.empty().with_journal_entry(entry).to_dict()))
        twins = [raw.post("/tailored-gen/projects", json=_project_body()).json()["id"] for _ in range(2)]

    plan = bria(root, url, "plan")
    assert f"projects {twins[0]}, {twins[1]} all match" in plan.stdout, plan.stdout
    applied = bria(root, url, "apply", "--auto-approve")
    assert applied.returncode == 5 and "adopts none" in applied.stdout + applied.stderr, applied.stdout
    assert len(account(url, SHARED_TOKEN)["projects"]) == 3 and len(_read_state(root).journal) == 1

    imported = bria(root, url, "import", "project.luna", str(twins[1]))
    assert imported.returncode == 0, imported.stderr
    assert _read_state(root).journal == () and _read_state(root).projects["luna"].remote_id == twins[1]
    assert bria(root, url, "apply", "--auto-approve").returncode == 0
    assert len(account(url, SHARED_TOKEN)["projects"]) == 3     # nothing more was created
    # The other look-alikes are not hidden: every plan names them.
    plan = bria(root, url, "plan")
    assert f"untracked project(s) {older}, {twins[0]} with the same name" in plan.stdout, plan.stdout


def _project_body() -> dict[str, Any]:
    return {"project_name": "StoryCharacter_Luna", "ip_type": "defined_character", "ip_medium": "illustration",
            "ip_name": "Luna", "ip_description": "girl with blue hair", "project_description": "x"}


def test_soft_deleted_and_preexisting_models_are_never_adoptable():
    state = State.empty()
    entry = JournalEntry("e", Op.CREATE_MODEL.value, "model.m", "M", 7, {"seen_max_id": 10, "preexisting": [9]})
    listed = [{"id": 9, "name": "M", "dataset_id": 7, "status": "Created"},
              {"id": 11, "name": "M", "dataset_id": 7, "status": "Deleted"},
              {"id": 12, "name": "M", "dataset_id": 8, "status": "Created"},
              {"id": 5, "name": "M", "dataset_id": 7, "status": "Completed"}]
    assert match(entry, listed, state).none
    found = match(entry, listed + [{"id": 13, "name": "M", "dataset_id": 7, "status": "Created"}], state)
    assert found.found is not None and found.found["id"] == 13


# --- case 8: cancel between the two calls of a journaled step ------------------------------


class CancelAfterComplete(httpx.AsyncBaseTransport):
    """The emulator, and a Ctrl-C the moment a dataset's PUT status=completed is answered."""

    def __init__(self, app: Any, cancel: asyncio.Event):
        self._inner, self._cancel = httpx.ASGITransport(app=app), cancel

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "PUT" and b'"completed"' in request.content:
            self._cancel.set()
        return response


async def test_case8_cancel_between_complete_and_its_reread_still_records_completed(tmp_path, bria_env):
    from reconciler.api import BriaClient

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(train=False), luna_images(2)))
    cancel = asyncio.Event()
    client = BriaClient(base_url=EMULATOR_BASE_URL, token="token-apply-tests",
                        transport=CancelAfterComplete(env.app, cancel))
    async with client:
        result = await env.apply(await env.plan(manifest), manifest, client=client, cancel_event=cancel)
    assert result.cancelled
    state = env.current_state()
    version = state.datasets["luna_v1"].current
    assert version.status == "completed" and len(version.images) == 2 and state.journal == ()
    remote = await env.remote()
    assert remote["datasets"][0]["status"] == "completed"
    plan = await env.plan(manifest)
    assert not any(s.op is Op.COMPLETE_DATASET for c in plan.changes for s in c.steps)


# --- a model starts while its dataset's completion is re-read ---------------------------------


class HoldReread(httpx.AsyncBaseTransport):
    """The emulator; the re-read of a dataset after its completion is held until a model
    create has been answered (or 5 s pass), and answered with 500s when `fail_reread`."""

    def __init__(self, app: Any, *, fail_reread: bool = False):
        self._inner = httpx.ASGITransport(app=app)
        self.completed = False
        self.model_created = asyncio.Event()
        self.model_created_during_reread = False
        self.fail_reread = fail_reread

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        is_reread = request.method == "GET" and self.completed and "/datasets/" in request.url.path \
            and not request.url.path.endswith("/images")
        if is_reread:
            try:
                await asyncio.wait_for(self.model_created.wait(), 5)
                self.model_created_during_reread = True
            except asyncio.TimeoutError:
                pass
            if self.fail_reread:
                return httpx.Response(500, json={"error": "injected"}, request=request)
        response = await self._inner.handle_async_request(request)
        if request.method == "PUT" and b'"completed"' in request.content:
            self.completed = True
        if request.method == "POST" and request.url.path.endswith("/tailored-gen/models"):
            self.model_created.set()
        return response


async def test_a_model_is_created_while_its_completed_dataset_is_reread(tmp_path, bria_env):
    """The API's answer to the completion says the version is frozen, so the model create
    does not wait for the re-read that records the captions (one round trip less)."""
    from reconciler.api import BriaClient

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(3)))
    transport = HoldReread(env.app)
    async with BriaClient(base_url=EMULATOR_BASE_URL, token="token-apply-tests", transport=transport) as client:
        result = await env.apply(await env.plan(manifest), manifest, client=client)
    assert result.ok, result.outcomes
    assert transport.model_created_during_reread
    state = env.current_state()
    version = state.datasets["luna_v1"].current
    assert version.status == "completed" and len(version.images) == 3
    assert all(image.caption for image in version.images.values())   # the re-read's captions
    assert state.journal == () and len(state.models) == 1
    assert not (await env.plan(manifest)).has_changes


async def test_a_failed_reread_after_the_model_was_created_is_resolved_by_the_next_run(tmp_path, bria_env):
    """The model exists; the completion's record does not (its re-read failed): the entry
    stays, the next run records the completion from the API and plans nothing, no duplicate."""
    from reconciler.api import BriaClient

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(3)))
    transport = HoldReread(env.app, fail_reread=True)
    async with BriaClient(base_url=EMULATOR_BASE_URL, token="token-apply-tests", transport=transport,
                          max_retries=0) as client:
        result = await env.apply(await env.plan(manifest), manifest, client=client)
    assert not result.ok and transport.model_created_during_reread
    state = env.current_state()
    assert [e.op for e in state.journal] == [Op.COMPLETE_DATASET.value]
    assert state.datasets["luna_v1"].current.status == "draft" and len(state.models) == 1

    again = await env.converge(manifest)
    assert again.ok, again.outcomes
    state = env.current_state()
    version = state.datasets["luna_v1"].current
    assert state.journal == () and version.status == "completed" and len(version.images) == 3
    assert_no_duplicates(await env.remote(), state)
    assert not (await env.plan(manifest)).has_changes


# --- case 9: entries only in a slot; recovery lists once ------------------------------------


class HoldUploads(httpx.AsyncBaseTransport):
    """The emulator, with image uploads held until released (to look at state meanwhile)."""

    def __init__(self, app: Any):
        self._inner = httpx.ASGITransport(app=app)
        self.release, self.in_flight = asyncio.Event(), 0
        self.image_lists = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/images"):
            self.in_flight += 1
            await self.release.wait()
        if request.method == "GET" and request.url.path.endswith("/images"):
            self.image_lists += 1
        return await self._inner.handle_async_request(request)


async def test_case9_entries_only_for_calls_holding_a_slot_and_recovery_lists_once(tmp_path, bria_env):
    from reconciler.api import BriaClient

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(train=False), luna_images(8)))
    transport = HoldUploads(env.app)
    client = BriaClient(base_url=EMULATOR_BASE_URL, token="token-apply-tests", transport=transport)
    async with client:
        run = asyncio.ensure_future(env.apply(await env.plan(manifest), manifest, client=client, parallelism=2))
        while transport.in_flight < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)              # the other 6 uploads are waiting for a slot
        pending = env.store.read().journal    # what a kill at this moment would leave
        assert [e.op for e in pending] == [Op.UPLOAD_IMAGE.value] * 2, pending
        transport.release.set()
        assert (await run).ok

    # Recovery: 8 leftover upload entries of one dataset → one list of its images.
    state = env.current_state()
    version = state.datasets["luna_v1"].current
    entries = [JournalEntry(f"u{i}", Op.UPLOAD_IMAGE.value, "dataset.luna_v1", image.image_name, version.remote_id,
                            {"sha256": sha}) for i, (sha, image) in enumerate(version.images.items())]
    bare = state.with_resource("dataset.luna_v1", type(state.datasets["luna_v1"])(
        project="luna", versions=(type(version)(version.remote_id, version.name, version.status,
                                                version.caption_prefix, {}),)))
    for entry in entries:
        bare = bare.with_journal_entry(entry)
    env.store.write(bare)
    counting = HoldUploads(env.app)
    async with BriaClient(base_url=EMULATOR_BASE_URL, token="token-apply-tests", transport=counting) as client:
        left = await resolve_leftovers(env.current_state(), client=client, store=env.store, manifest=manifest)
    assert counting.image_lists == 1 and left.undecided == () and left.state.journal == ()
    assert left.state.datasets["luna_v1"].current.images.keys() == version.images.keys()
    assert_no_duplicates(await env.remote(), left.state)


# --- case 12: model replacement leftovers ---------------------------------------------------


def test_case12_replacement_leftovers_are_resolved_by_the_journal(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    for kill in ("1", "2"):    # right after CREATE_MODEL of the replacement; right after DELETE_MODEL
        root = write_case(tmp_path / f"k{kill}", NO_TRAIN_YAML, luna_images(1)).parent
        token = f"case12-{kill}"
        assert bria(root, url, "apply", "--auto-approve", token=token).returncode == 0
        old = _read_state(root).models["luna_max"].remote_id
        manifest = root / "bria.yaml"
        manifest.write_text(manifest.read_text().replace("training_version: max", "training_version: light"))
        killed = bria(root, url, "apply", "--auto-approve", token=token, BRIA_TEST_KILL_AFTER_CALLS=kill)
        assert killed.returncode == -9, killed.stdout + killed.stderr
        final = bria(root, url, "apply", "--auto-approve", token=token)
        assert final.returncode == 0, final.stdout + final.stderr
        models = account(url, token)["models"]
        state = _read_state(root)
        assert list(models) == [state.models["luna_max"].remote_id] and old not in models, (kill, models)
        assert state.models["luna_max"].superseded == () and state.journal == ()
        assert bria(root, url, "plan", "--detailed-exitcode", token=token).returncode == 0


def test_soft_deleted_models_are_never_adopted_nor_imported(tmp_path, emulator_server):
    """`--soft-delete-models`: a deleted model stays listed with status Deleted. A replaced,
    never-trained model killed right after its DELETE is resolved as deleted, and a lost
    state's discovery imports the live model, not the Deleted one of the same name."""
    url = emulator_server("--training-seconds", "600", "--soft-delete-models")
    root = write_case(tmp_path / "m", NO_TRAIN_YAML, luna_images(1)).parent
    assert bria(root, url, "apply", "--auto-approve").returncode == 0
    old = _read_state(root).models["luna_max"].remote_id
    manifest = root / "bria.yaml"
    manifest.write_text(manifest.read_text().replace("training_version: max", "training_version: light"))
    killed = bria(root, url, "apply", "--auto-approve", BRIA_TEST_KILL_AFTER_CALLS="2")
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert bria(root, url, "apply", "--auto-approve").returncode == 0
    models = account(url, SHARED_TOKEN)["models"]
    new = _read_state(root).models["luna_max"].remote_id
    assert models[old]["status"] == "Deleted" and set(models) == {old, new}
    assert _read_state(root).models["luna_max"].superseded == ()

    (root / "state" / "bria.json").unlink()
    restored = bria(root, url, "import", "--discover", "--auto-approve")
    assert restored.returncode == 0 and f"import model.luna_max {new}" in restored.stdout, restored.stdout
    assert bria(root, url, "plan", "--detailed-exitcode").returncode == 0
