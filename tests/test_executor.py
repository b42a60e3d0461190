"""The executor against the in-process emulator: what apply records, how it fails, cancels,
resolves its journal and follows training. Plans come from the real planner."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from fixtures_apply import (InstantClock, assert_no_duplicates, load, luna_images, luna_yaml, make_png,
                            with_sol_project, write_case)
from reconciler.executor import (FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, PlanRefused, Reporter, apply_plan,
                                 resolve_leftovers, stale_reason)
from reconciler.model import Op
from reconciler.state.model import JournalEntry

TWO_PROJECTS_YAML = with_sol_project(luna_yaml() + """\
  sol_max:
    dataset: sol_v1
    name: Sol max
""")


async def test_full_create_records_every_object_and_converges(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(5)))
    result = await env.converge(manifest)

    assert result.ok and [o.status for o in result.outcomes] == [SUCCEEDED] * 3
    remote = await env.remote()
    assert_no_duplicates(remote, env.current_state())
    (project,), (dataset,), (model,) = remote["projects"], remote["datasets"], remote["models"]
    assert dataset["status"] == "completed" and len(remote["images"][dataset["id"]]) == 5
    assert model["status"] == "InProgress" and model["dataset_id"] == dataset["id"]

    state = env.current_state()
    assert state.journal == ()
    assert state.projects["luna"].remote_id == project["id"]
    version = state.datasets["luna_v1"].current
    assert (version.remote_id, version.status) == (dataset["id"], "completed")
    assert set(version.images) == {img.sha256 for img in manifest.datasets["luna_v1"].images}
    assert state.models["luna_max"].status == "InProgress"
    assert state.models["luna_max"].generation_prefix == model["generation_prefix"]
    assert not (await env.plan(manifest)).has_changes


async def test_state_is_written_after_every_mutation(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(3)))
    result = await env.apply(await env.plan(manifest), manifest, parallelism=1)
    # project, dataset, 3 uploads, complete (+ a re-read of what was frozen), model, train:
    # 8 mutations, all journaled, each recorded before the change goes on; the entries of
    # concurrent uploads may share a write (group commit). The project create's journal
    # watermark is the refresh's project list, under a second old (executor/account.py), and
    # the re-read of the completed dataset is the one read.
    assert result.api_calls == 9
    assert 8 < result.state_writes <= 2 * 8
    assert env.current_state().serial == result.state.serial == result.state_writes


async def test_failed_change_skips_dependents_and_finishes_independent_work(tmp_path, bria_env):
    env = bria_env()
    images = {**luna_images(2), "images/sol/a.png": 50, "images/sol/b.png": 51}
    root = tmp_path / "m"
    manifest = load(write_case(root, TWO_PROJECTS_YAML, images))
    plan = await env.plan(manifest)
    # The file changes between plan and apply: that upload must fail, not upload other bytes.
    (root / "images/luna/luna_001.png").write_bytes(make_png(256, 256, 999))

    result = await env.apply(plan, manifest)

    status = {o.address: o for o in result.outcomes}
    assert status["dataset.luna_v1"].status == FAILED
    assert "file changed since plan" in status["dataset.luna_v1"].message
    assert status["model.luna_max"].status == SKIPPED and "dataset.luna_v1" in status["model.luna_max"].message
    assert {status[a].status for a in ("project.luna", "project.sol", "dataset.sol_v1", "model.sol_max")} == {SUCCEEDED}
    assert not result.ok
    remote = await env.remote()
    assert [m["name"] for m in remote["models"]] == ["Sol max"]
    # The other upload of the failed change was done and recorded: a re-run does not repeat it.
    state = env.current_state()
    assert len(state.datasets["luna_v1"].current.images) == 1 and state.journal == ()

    manifest = load(root / "bria.yaml")   # re-plan with the new file
    assert (await env.converge(manifest)).ok
    assert_no_duplicates(await env.remote(), env.current_state())
    assert not (await env.plan(manifest)).has_changes


async def test_refused_plan_is_not_started(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    assert (await env.converge(manifest)).ok
    emptied = replace(manifest, projects={}, datasets={}, models={})
    plan = await env.plan(emptied)
    assert plan.refused
    with pytest.raises(PlanRefused):
        await env.apply(plan, emptied)
    assert len((await env.remote())["projects"]) == 1


class CancelAfter(Reporter):
    """Sets the cancel flag once `address` has finished — like Ctrl-C at that moment."""

    def __init__(self, address: str, event: asyncio.Event):
        self.address, self.event = address, event

    def change_finished(self, address: str, status: str, message: str = "") -> None:
        if address == self.address:
            self.event.set()


async def test_cancel_starts_no_new_calls_and_a_rerun_resumes(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(3)))
    cancel = asyncio.Event()
    result = await env.apply(await env.plan(manifest), manifest, cancel_event=cancel,
                             reporter=CancelAfter("project.luna", cancel))
    assert result.cancelled and not result.ok
    assert [o.status for o in result.outcomes] == [SUCCEEDED, NOT_STARTED, NOT_STARTED]
    assert result.api_calls == 1     # the project's create (its watermark: the refresh's list)
    remote = await env.remote()
    assert len(remote["projects"]) == 1 and remote["datasets"] == []
    assert env.current_state().projects["luna"].remote_id == remote["projects"][0]["id"]

    assert (await env.converge(manifest)).ok
    assert_no_duplicates(await env.remote(), env.current_state())


async def test_leftover_journal_entry_is_adopted_not_duplicated(tmp_path, bria_env):
    """A run died after the server created the dataset but before state recorded it."""
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(2)))
    plan = await env.plan(manifest)
    only_project = replace(plan, changes=plan.changes[:1])
    await env.apply(only_project, manifest)
    state = env.current_state()
    project_id = state.projects["luna"].remote_id
    entry = JournalEntry("e1", Op.CREATE_DATASET.value, "dataset.luna_v1", "Luna training set", project_id,
                         {"project": "luna"})
    env.store.write(state.with_journal_entry(entry))
    created = await env.client().create_dataset(project_id, "Luna training set")   # the "lost" response

    left = await resolve_leftovers(env.current_state(), client=env.client(), store=env.store, manifest=manifest)
    state, notes = left.state, left.notes
    assert state.journal == () and state.datasets["luna_v1"].current.remote_id == created["id"]
    assert "adopted" in notes[0]
    assert (await env.converge(manifest)).ok
    remote = await env.remote()
    assert_no_duplicates(remote, env.current_state()) and len(remote["datasets"]) == 1


async def test_leftover_entry_for_nothing_is_dropped_and_the_step_runs_again(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    entry = JournalEntry("e1", Op.CREATE_PROJECT.value, "project.luna", "StoryCharacter_Luna", None, {})
    env.store.write(env.current_state().with_journal_entry(entry))
    left = await resolve_leftovers(env.current_state(), client=env.client(), store=env.store, manifest=manifest)
    state, notes = left.state, left.notes
    assert state.journal == () and "not found" in notes[0] and "luna" not in state.projects
    assert (await env.converge(manifest)).ok
    assert len((await env.remote())["projects"]) == 1


async def test_lost_responses_are_resolved_by_lookup_during_the_run(tmp_path, bria_env):
    # Every other mutation is committed but its response dropped: creates raise
    # OutcomeUnknown and must be adopted by lookup on the spot, never repeated.
    env = bria_env(drop_rate=0.5, seed=7)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(6)))
    for _ in range(4):
        result = await env.converge(manifest)
        if result.ok:
            break
    assert result.ok, [o for o in result.outcomes if o.status != SUCCEEDED]
    remote = await env.remote()
    assert_no_duplicates(remote, env.current_state())
    assert len(remote["models"]) == 1 and sum(len(v) for v in remote["images"].values()) == 6
    assert not (await env.plan(manifest)).has_changes


async def test_wait_follows_training_and_reports_failure(tmp_path, bria_env):
    env = bria_env(failure_rate=1.0, training_seconds=0.2)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    result = await env.apply(await env.plan(manifest), manifest, wait=True)
    assert result.training == {"model.luna_max": "Failed"}
    assert result.training_failed == ["model.luna_max"] and not result.ok
    assert env.current_state().models["luna_max"].status == "Failed"


async def test_wait_records_completed_model(tmp_path, bria_env):
    env = bria_env(training_seconds=0.2)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    result = await env.apply(await env.plan(manifest), manifest, wait=True)
    assert result.ok and result.training == {"model.luna_max": "Completed"}
    assert env.current_state().models["luna_max"].status == "Completed"


async def test_failed_model_is_replaced_and_kept_as_superseded(tmp_path, bria_env):
    env = bria_env(failure_rate=1.0, training_seconds=0.1)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    await env.apply(await env.plan(manifest), manifest, wait=True)
    first = env.current_state().models["luna_max"].remote_id
    result = await env.converge(manifest)
    assert result.ok
    model = env.current_state().models["luna_max"]
    assert model.remote_id != first
    assert [(s.remote_id, s.status) for s in model.superseded] == [(first, "Failed")]
    assert model.superseded[0].reason == "replace_because_training_failed"


async def test_draft_dataset_prefix_change_regenerates_captions(tmp_path, bria_env):
    env = bria_env()
    root = tmp_path / "m"
    images = {**luna_images(2), "images/luna/luna_manual.png": (77, "waving, full body")}
    yaml = luna_yaml(complete=False, train=False)
    manifest = load(write_case(root, yaml, images))
    assert (await env.converge(manifest)).ok
    state = env.current_state()
    manual = [r for r in state.datasets["luna_v1"].current.images.values() if r.caption_source == "manual"]
    assert [r.caption for r in manual] == ["waving, full body"]

    with_prefix = yaml.replace("    complete: false", "    caption_prefix: 'A drawing of Luna, '\n    complete: false")
    manifest = load(write_case(root, with_prefix, {}))
    plan = await env.plan(manifest)
    ops = [s.op for c in plan.changes for s in c.steps]
    assert Op.SET_CAPTION_PREFIX in ops and Op.REGENERATE_ALL_CAPTIONS in ops
    assert (await env.apply(plan, manifest)).ok
    version = env.current_state().datasets["luna_v1"].current
    assert version.caption_prefix == "A drawing of Luna, "
    remote = {i["id"]: i for i in (await env.remote())["images"][version.remote_id]}
    assert {r.caption for r in version.images.values()} == {i["caption"] for i in remote.values()}
    assert not (await env.plan(manifest)).has_changes


async def test_auto_prefix_is_generated_once_and_pinned(tmp_path, bria_env):
    env = bria_env()
    yaml = luna_yaml().replace("    complete: true", "    caption_prefix: auto\n    complete: true")
    manifest = load(write_case(tmp_path / "m", yaml, luna_images(3)))
    assert (await env.converge(manifest)).ok
    record = env.current_state().datasets["luna_v1"]
    assert record.pinned_prefix and record.current.caption_prefix == record.pinned_prefix
    assert not (await env.plan(manifest)).has_changes


async def test_completed_dataset_change_clones_a_new_version(tmp_path, bria_env):
    env = bria_env()
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(), luna_images(3)))
    assert (await env.converge(manifest)).ok
    first = env.current_state()
    (root / "images/luna/luna_000.png").unlink()
    manifest = load(write_case(root, luna_yaml(), {"images/luna/new.png": 42}))
    result = await env.converge(manifest)
    assert result.ok
    state = env.current_state()
    versions = state.datasets["luna_v1"].versions
    assert len(versions) == 2 and versions[-1].status == "completed"
    assert set(versions[-1].images) == {i.sha256 for i in manifest.datasets["luna_v1"].images}
    model = state.models["luna_max"]
    assert model.dataset_remote_id == versions[-1].remote_id
    assert [s.remote_id for s in model.superseded] == [first.models["luna_max"].remote_id]
    assert_no_duplicates(await env.remote(), env.current_state())
    assert not (await env.plan(manifest)).has_changes


async def test_stale_reason(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    fresh = await env.plan(manifest)
    # A plan made before any state existed is not stale against a state never written.
    assert stale_reason(fresh, env.current_state(), manifest) is None
    assert (await env.apply(fresh, manifest)).ok
    plan = await env.plan(manifest)
    state = env.current_state()
    assert stale_reason(plan, state, manifest) is None
    assert stale_reason(fresh, state, manifest) is not None
    assert "serial" in stale_reason(plan, replace(state, serial=state.serial + 1), manifest)
    assert "lineage" in stale_reason(replace(plan, state_lineage="other"), state, manifest)
    assert "manifest" in stale_reason(replace(plan, manifest_digest="x"), state, manifest)


class InFlightCounter:
    """ASGI wrapper around the emulator: the peak number of requests it served at once."""

    def __init__(self, app):
        self.app, self.current, self.peak = app, 0, 0

    async def __call__(self, scope, receive, send):
        self.current += 1
        self.peak = max(self.peak, self.current)
        try:
            await self.app(scope, receive, send)
        finally:
            self.current -= 1


async def test_uploads_respect_parallelism(tmp_path, bria_env):
    # Counted, not timed: the emulator's 100 ms latency keeps each upload in flight long
    # enough for the executor to fill every slot, and never more than `parallelism`.
    env = bria_env(latency_ms=100)
    manifest = load(write_case(tmp_path / "m", luna_yaml(train=False), luna_images(12)))
    plan = await env.plan(manifest)
    env.app = counter = InFlightCounter(env.app)
    result = await env.apply(plan, manifest, parallelism=6, clock=InstantClock())
    assert result.ok
    assert counter.peak == 6
    assert counter.current == 0


class CancelWhileTraining(Reporter):
    def __init__(self, event: asyncio.Event):
        self.event = event

    def training(self, statuses, elapsed) -> None:
        self.event.set()


async def test_cancel_while_waiting_for_training_returns_at_once(tmp_path, bria_env):
    from reconciler.executor import RealClock

    env = bria_env(training_seconds=600)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await env.apply(await env.plan(manifest), manifest, wait=True, cancel_event=cancel,
                             reporter=CancelWhileTraining(cancel), clock=RealClock(), poll_interval=60)
    assert loop.time() - started < 10
    assert result.cancelled and result.training == {"model.luna_max": "InProgress"}
    assert all(o.status == SUCCEEDED for o in result.outcomes)


class StoreThatBreaks:
    """A real local store whose writes start failing after `good` writes (as when another
    writer got in): a StateStore-protocol stand-in, like an in-memory store."""

    def __init__(self, inner, good: int):
        self.inner, self.good = inner, good

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def write(self, state):
        from reconciler.state.store import SerialConflict

        if self.good <= 0:
            raise SerialConflict("the stored serial moved (another writer)")
        self.good -= 1
        return self.inner.write(state)


async def test_state_write_failure_stops_the_run_before_unrecorded_mutations(tmp_path, bria_env):
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(4)))
    plan = await env.plan(manifest)
    # Writes: project entry, project result, dataset entry, then the dataset result fails.
    breaking = StoreThatBreaks(env.store, good=3)
    result = await apply_plan(plan, manifest, env.current_state(), client=env.client(), store=breaking,
                              clock=InstantClock())
    assert result.fatal and "another writer" in result.fatal and not result.ok and not result.cancelled
    status = {o.address: o.status for o in result.outcomes}
    assert status == {"project.luna": SUCCEEDED, "dataset.luna_v1": FAILED, "model.luna_max": SKIPPED}
    remote = await env.remote()
    assert len(remote["datasets"]) == 1 and sum(len(v) for v in remote["images"].values()) == 0
    # The last saved state still journals the dataset create: the next run adopts it.
    saved = env.current_state()
    assert [e.op for e in saved.journal] == ["create_dataset"]
    assert (await env.converge(manifest)).ok
    assert_no_duplicates(await env.remote(), env.current_state())


async def test_model_deleted_outside_bria_is_recreated_keeping_its_history(tmp_path, bria_env):
    env = bria_env(failure_rate=1.0, training_seconds=0.1)
    manifest = load(write_case(tmp_path / "m", luna_yaml(), luna_images(1)))
    await env.apply(await env.plan(manifest), manifest, wait=True)
    first = env.current_state().models["luna_max"].remote_id
    await env.apply(await env.plan(manifest), manifest, wait=True)       # replaced: first is history
    second = env.current_state().models["luna_max"].remote_id
    await env.client().delete_model(second)                              # "in the console"

    plan = await env.plan(manifest)
    change = next(c for c in plan.changes if c.address == "model.luna_max")
    assert [s.op for s in change.steps][:2] == [Op.FORGET, Op.CREATE_MODEL]
    assert (await env.apply(plan, manifest)).ok
    model = env.current_state().models["luna_max"]
    assert model.remote_id not in (first, second)
    assert [s.remote_id for s in model.superseded] == [first]             # the deleted one is not history
    assert_no_duplicates(await env.remote(), env.current_state())


async def test_an_upload_record_and_the_next_upload_journal_entry_share_one_state_write(tmp_path, bria_env):
    """Group commit at the slot hand-off (executor/holder.py, run.py): when an upload's
    answer frees its slot, the worker waiting for it writes its journal entry in the same
    state write as the finished upload's record — about one write per upload, not two —
    and every upload is still recorded (no journal entry left, nothing duplicated)."""
    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml(train=False), luna_images(12)))
    result = await env.apply(await env.plan(manifest), manifest, parallelism=1)
    assert result.ok
    state = env.current_state()
    assert state.journal == () and len(state.datasets["luna_v1"].current.images) == 12
    assert_no_duplicates(await env.remote(), state)
    # One call in flight, a second worker waiting for its slot. Project, dataset, complete,
    # model: an entry and a record each (8 writes); the 12 uploads: 13 writes (24 when each
    # entry and each record went out on its own, as before).
    assert result.state_writes <= 8 + 12 + 2
    assert env.current_state().serial == result.state.serial == result.state_writes

