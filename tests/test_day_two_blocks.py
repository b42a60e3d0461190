"""The manifest's moved / removed / import blocks and `bria state mv`, planned by the real
planner and applied by the executor against the in-process emulator; each shown in the
plan in every format."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from fixtures_apply import BriaEnv, load, luna_images, luna_yaml, run_bria, write_case
from reconciler import render
from reconciler.model import Action, Op
from reconciler.render.json import validate_plan

RENAMED_YAML = (luna_yaml().replace("  luna_v1:\n", "  luna_set:\n").replace("dataset: luna_v1", "dataset: luna_set")
                .replace("  luna_max:\n", "  luna_main:\n")
                + "moved:\n  - from: dataset.luna_v1\n    to: dataset.luna_set\n"
                  "  - from: model.luna_max\n    to: model.luna_main\n")
WITHOUT_MODEL_YAML = luna_yaml().split("models:\n")[0]


def rewrite(root: Path, text: str) -> object:
    (root / "bria.yaml").write_text(text, encoding="utf-8")
    return load(root / "bria.yaml")


def mutations(remote_before: dict, remote_after: dict) -> bool:
    return json.dumps(remote_before, sort_keys=True) != json.dumps(remote_after, sort_keys=True)


def all_views(plan) -> dict[str, str]:
    data = plan.to_dict()
    assert validate_plan(data) == []
    return {fmt: render.render_plan(data, fmt) for fmt in render.FORMATS}


async def test_a_key_rename_with_moved_makes_no_api_call_and_no_training(tmp_path, bria_env):
    env = bria_env()
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(), luna_images(3)))
    assert (await env.converge(manifest)).ok
    before_state, before_remote = env.current_state(), await env.remote()

    renamed = rewrite(root, RENAMED_YAML)
    plan = await env.plan(renamed)
    assert [(c.address, c.actions) for c in plan.changes] == [
        ("dataset.luna_set", (Action.MOVE,)), ("model.luna_main", (Action.MOVE,))]
    assert plan.summary() == {"add": 0, "change": 0, "destroy": 0, "images_to_upload": 0,
                              "models_to_train": 0, "move": 2, "import": 0, "forget": 0}
    views = all_views(plan)
    assert "model.luna_main has moved from model.luna_max (state only: no API change)" in views["human"]
    assert "State only: 2 to move." in views["markdown"] and '"move_address"' in views["json"]

    result = await env.apply(plan, renamed)
    assert result.ok and result.api_calls == 0, "a move is state only"
    assert not mutations(before_remote, await env.remote())
    state = env.current_state()
    assert state.models["luna_main"].remote_id == before_state.models["luna_max"].remote_id
    assert state.models["luna_main"].dataset == "luna_set" and "luna_max" not in state.models
    assert not (await env.plan(renamed)).has_changes, "the blocks stay harmlessly after the move"


async def test_a_removed_block_destroys_a_trained_model_without_a_flag(tmp_path, bria_env):
    env = bria_env(training_seconds=600)
    root = tmp_path / "m"
    assert (await env.converge(load(write_case(root, luna_yaml(), luna_images(1))))).ok

    unreviewed = await env.plan(rewrite(root, WITHOUT_MODEL_YAML))
    assert [c.address for c in unreviewed.refused] == ["model.luna_max"], "positive control: protected"

    manifest = rewrite(root, WITHOUT_MODEL_YAML + "removed:\n  - address: model.luna_max\n    destroy: true\n")
    plan = await env.plan(manifest)
    (change,) = plan.changes
    assert change.protected and not change.refused and change.reason == "delete_because_removed_block"
    assert "removed block with destroy: true" in all_views(plan)["human"]
    assert (await env.apply(plan, manifest)).ok
    assert (await env.remote())["models"] == [] and env.current_state().models == {}


async def test_a_removed_block_with_destroy_false_only_forgets(tmp_path, bria_env):
    env = bria_env(training_seconds=600)
    root = tmp_path / "m"
    assert (await env.converge(load(write_case(root, luna_yaml(), luna_images(1))))).ok
    remote_before = await env.remote()

    manifest = rewrite(root, WITHOUT_MODEL_YAML + "removed:\n  - address: model.luna_max\n    destroy: false\n")
    plan = await env.plan(manifest)
    (change,) = plan.changes
    assert change.actions == (Action.FORGET,) and [s.op for s in change.steps] == [Op.REMOVE_FROM_STATE]
    assert plan.summary()["forget"] == 1 and plan.summary()["destroy"] == 0
    views = all_views(plan)
    assert "model.luna_max will be forgotten" in views["human"] and "State only: 1 to forget." in views["markdown"]
    result = await env.apply(plan, manifest)
    assert result.ok and result.api_calls == 0
    assert "luna_max" not in env.current_state().models
    assert (await env.remote())["models"] == remote_before["models"], "the model stays in the API"


async def test_import_blocks_adopt_existing_objects_in_one_plan(tmp_path, bria_env):
    from reconciler.state.local import LocalStateStore

    first = bria_env()
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(), luna_images(2)))
    assert (await first.converge(manifest)).ok
    old = first.current_state()
    ids = {"project.luna": old.projects["luna"].remote_id, "dataset.luna_v1": old.datasets["luna_v1"].current.remote_id,
           "model.luna_max": old.models["luna_max"].remote_id}

    # A second state (say, the original was lost) adopts the same objects through import blocks.
    store = LocalStateStore(tmp_path / "other" / "bria.json")
    store.lock("pytest")
    env = BriaEnv(first.app, store)
    try:
        blocks = "import:\n" + "".join(f"  - to: {a}\n    id: {i}\n" for a, i in reversed(ids.items()))
        importing = rewrite(root, luna_yaml().replace("name: Luna max", "name: Luna max v2") + blocks)
        plan = await env.plan(importing)
        assert {c.address: c.actions for c in plan.changes} == {
            "project.luna": (Action.IMPORT,), "dataset.luna_v1": (Action.IMPORT,),
            "model.luna_max": (Action.IMPORT, Action.UPDATE)}, "imported, and the rename planned with it"
        views = all_views(plan)
        assert "model.luna_max will be imported (remote #%d), then be updated in place" % ids["model.luna_max"] \
            in views["human"]
        assert "State only: 3 to import." in views["markdown"]
        result = await env.apply(plan, importing)
        assert result.ok, result.outcomes
        state = env.current_state()
        assert {"project.luna": state.projects["luna"].remote_id,
                "dataset.luna_v1": state.datasets["luna_v1"].current.remote_id,
                "model.luna_max": state.models["luna_max"].remote_id} == ids
        assert state.models["luna_max"].name == "Luna max v2"
        assert len((await env.remote())["models"]) == 1, "nothing was created"
        assert not (await env.plan(importing)).has_changes
    finally:
        for client in env.clients:
            await client.aclose()
        store.unlock()


async def test_an_import_of_a_missing_object_is_refused_before_anything_runs(tmp_path, bria_env):
    from reconciler.executor.import_preview import ImportProblem

    env = bria_env()
    manifest = load(write_case(tmp_path / "m", luna_yaml() + "import:\n  - to: project.luna\n    id: 4242\n",
                               luna_images(1)))
    try:
        await env.plan(manifest)
    except ImportProblem as exc:
        assert "bria.yaml:" in str(exc) and "no project with id 4242" in str(exc)
    else:
        raise AssertionError("a missing import id must be refused")


def test_block_mistakes_are_reported_with_file_and_line(tmp_path):
    write_case(tmp_path, luna_yaml() + """\
moved:
  - from: model.luna_max
    to: model.luna_max
  - from: dataset.gone
    to: model.luna_max
removed:
  - address: model.luna_max
    destroy: true
import:
  - to: model.nowhere
    id: 7
""", luna_images(1))
    done = run_bria("validate", cwd=tmp_path)
    assert done.returncode == 1
    for expected in ("bria.yaml:26:5", "from and to are both model.luna_max",
                     "bria.yaml:28:5", "different kinds",
                     "bria.yaml:30:5", "model.luna_max is still declared",
                     "bria.yaml:33:5", "model.nowhere is not declared"):
        assert expected in done.stderr, done.stderr


def test_state_mv_moves_a_record_without_touching_the_api(tmp_path):
    yaml = "api:\n  endpoint: emulator\n  emulator:\n    training_seconds: 600\n" + luna_yaml()
    write_case(tmp_path, yaml, luna_images(1))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path).returncode == 0
    before = json.loads((tmp_path / "state/bria.json").read_text())["resources"]["model.luna_max"]
    (tmp_path / "bria.yaml").write_text(yaml.replace("  luna_max:\n", "  luna_main:\n"), encoding="utf-8")
    done = run_bria("state", "mv", "model.luna_max", "model.luna_main", cwd=tmp_path)
    assert done.returncode == 0 and "the API was not touched" in done.stdout, done.stderr
    after = json.loads((tmp_path / "state/bria.json").read_text())["resources"]
    assert after["model.luna_main"] == before and "model.luna_max" not in after
    assert run_bria("plan", "--detailed-exitcode", cwd=tmp_path).returncode == 0
    bad = run_bria("state", "mv", "model.luna_main", "dataset.x", cwd=tmp_path)
    assert bad.returncode == 1 and "only the key can change" in bad.stderr


def test_versioned_names_and_prune(tmp_path, emulator_server):
    """Each replacement gets a name with its version; `bria prune` deletes superseded models
    (trained ones only with --allow-destroy), never the current one."""
    from fixtures_emulator import make_png

    url = emulator_server("--training-seconds", "600", "--stopping-seconds", "0.2")
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(), luna_images(1))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    for seed in (50, 51):
        (tmp_path / f"images/luna/more_{seed}.png").write_bytes(make_png(256, 256, seed))
        assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    assert run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0, "names are stable"
    with httpx.Client(base_url=url, headers={"api_token": "token-apply-tests"}) as raw:
        names = sorted(m["name"] for m in raw.get("/tailored-gen/models").json())
        datasets = sorted(d["name"] for d in raw.get("/tailored-gen/datasets").json())
    assert names == ["Luna max", "Luna max v2", "Luna max v3"]
    assert datasets == ["Luna training set", "Luna training set v2", "Luna training set v3"]

    refused = run_bria("prune", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.returncode == 6 and "--allow-destroy model.luna_max" in refused.stderr
    assert "model.luna_max will lose its superseded models (its current model stays)" in refused.stdout
    pruned = run_bria("prune", "model.luna_max", "--allow-destroy", "model.luna_max", "--auto-approve",
                      cwd=tmp_path, env=env)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    with httpx.Client(base_url=url, headers={"api_token": "token-apply-tests"}) as raw:
        assert [m["name"] for m in raw.get("/tailored-gen/models").json()] == ["Luna max v3"]
    state = json.loads((tmp_path / "state/bria.json").read_text())["resources"]["model.luna_max"]
    assert state["superseded"] == [] and state["name"] == "Luna max v3"
    assert "No superseded models to prune" in run_bria("prune", cwd=tmp_path, env=env).stdout


async def test_the_destroy_note_says_where_superseded_models_go(tmp_path, bria_env):
    from fixtures_emulator import make_png

    env = bria_env(training_seconds=600)
    root = tmp_path / "m"
    manifest = load(write_case(root, luna_yaml(), luna_images(1)))
    assert (await env.converge(manifest)).ok
    (root / "images/luna/extra.png").write_bytes(make_png(256, 256, 90))
    assert (await env.converge(load(root / "bria.yaml"))).ok
    old = env.current_state().models["luna_max"].superseded[0].remote_id

    alone = await env.plan(rewrite(root, WITHOUT_MODEL_YAML), allow_destroy="all")
    assert any(f"superseded model(s) {old} stay in the API" in n and "bria prune model.luna_max" in n
               for n in alone.notes), alone.notes
    everything = await env.plan(rewrite(root, "version: 1\n"), allow_destroy="all")
    assert any(f"superseded model(s) {old} are deleted with project.luna" in n for n in everything.notes), \
        everything.notes


def test_destroy_ignores_the_blocks_and_still_needs_its_flag(tmp_path):
    yaml = "api:\n  endpoint: emulator\n  emulator:\n    training_seconds: 600\n" + luna_yaml()
    write_case(tmp_path, yaml, luna_images(1))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path).returncode == 0
    (tmp_path / "bria.yaml").write_text(yaml + "import:\n  - to: project.luna\n    id: 999\n", encoding="utf-8")
    refused = run_bria("destroy", "--auto-approve", cwd=tmp_path)
    assert refused.returncode == 6, refused.stdout + refused.stderr
    done = run_bria("destroy", "--auto-approve", "--allow-destroy", "all", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
