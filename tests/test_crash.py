"""Crash safety: `bria apply` killed with SIGKILL at many points, then re-run to completion.

The test hook BRIA_TEST_KILL_AFTER_CALLS=N makes the executor SIGKILL its own process right
after its N-th API call returns — the server has done the work, the state does not know yet
(and, with uploads in parallel, other calls are in flight). Each scenario runs in its own
organisation (its own API token) on one `bria emulator serve`: kill at N, kill again 3 calls
into the resumed run, then run to completion. Afterwards the API must hold exactly what the
manifest describes — no duplicate project, dataset, image or model — every state file
written along the way must parse, and a plan must show no changes.

Runs with each state backend. On PostgreSQL the state "file" is the workspace's row (one per
scenario), read with psycopg and parsed after every kill. The FIBO case (a `visual_schema:
auto` dataset with JSON captions, against `--dialect fibo`) runs on the local backend, at
fewer points: the journal logic is shared; what is new is its schema steps and captions.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fixtures_apply import CliBackend, luna_images, luna_yaml, run_bria
from reconciler.state.model import State

CRASH_YAML = luna_yaml().replace("    complete: true", "    caption_prefix: auto\n    complete: true") + """\
  luna_light:
    dataset: luna_v1
    name: Luna light
    training_version: light
"""
IMAGES = {**luna_images(8), "images/luna/cap_a.png": (91, "waving, full body"),
          "images/luna/cap_b.png": (92, "sitting, side view")}
# project, dataset, generate_prefix, set prefix, 10 uploads, 2 captions, complete + re-read,
# 2 × (create, train). (The project create's journal watermark is the refresh's project list,
# less than a second old; a resumed run lists projects afresh.)
EXECUTOR_CALLS = 22
KILL_POINTS = {
    "local": list(range(1, EXECUTOR_CALLS + 1)) + [3, 6, 10, 15],   # 26 scenarios
    # Fewer on PostgreSQL, to keep CI time sane: the executor's crash logic is the same for both
    # backends (every point is covered on local); these 10, spread over the run, check that
    # the PostgreSQL store keeps a parseable, resumable state at each kind of call (project,
    # dataset, prefix, uploads, captions, complete, model create/train).
    "postgres": [1, 2, 3, 4, 6, 10, 15, 17, 19, 22],
}


FIBO_YAML = luna_yaml().replace("    complete: true", "    visual_schema: auto\n    complete: true").replace(
    "    training_version: max\n", "") + """\
  luna_expert:
    dataset: luna_v1
    name: Luna expert
    training_mode: expert
"""
FIBO_IMAGES = {**luna_images(8), "images/luna/cap_a.png": 91, "images/luna/cap_b.png": 92}
FIBO_CAPTIONS = {"images/luna/cap_a.json": {"subject": "waving", "view": "full body"},
                 "images/luna/cap_b.json": {"subject": "sitting", "view": "side"}}
# project, dataset, generate + set schema, 10 uploads, 2 captions, complete + re-read, 2 × (create, train)
FIBO_KILL_POINTS = [1, 2, 3, 4, 6, 12, 16, 17, 18, 20]


@dataclass(frozen=True)
class CrashCase:
    yaml: str
    images: dict
    models: tuple[str, ...]
    manual: list = field(default_factory=list)      # the manual captions, sorted, as JSON values or text
    json_captions: dict = field(default_factory=dict)
    dialect: str = "legacy"


LEGACY = CrashCase(CRASH_YAML, IMAGES, ("luna_max", "luna_light"), ["sitting, side view", "waving, full body"])
FIBO = CrashCase(FIBO_YAML, FIBO_IMAGES, ("luna_max", "luna_expert"),
                 sorted(FIBO_CAPTIONS.values(), key=json.dumps), FIBO_CAPTIONS, "fibo")


def _write(case: CrashCase, root: Path, backend: CliBackend) -> None:
    backend.write_case(root, case.yaml, case.images)
    for rel, caption in case.json_captions.items():
        (root / rel).write_text(json.dumps(caption), encoding="utf-8")


def _scenario(index: int, kill_at: int, base: Path, url: str, backend: CliBackend, case: CrashCase = LEGACY) -> None:
    root = base / f"s{index}"
    _write(case, root, backend)
    env = {"BRIA_API_URL": url, "BRIA_API_TOKEN": f"crash-{index}", **backend.env}
    # This emulator commits nothing late, so a short settle window only saves time: an upload
    # that was in flight (not sent) at the kill is looked for 1 s, not 5 s, before it is redone.
    for kill in (kill_at, 3):
        killed = run_bria("apply", "--auto-approve", "--settle-window", "1", cwd=root,
                          env={**env, "BRIA_TEST_KILL_AFTER_CALLS": str(kill)})
        assert killed.returncode in (-9, 0), f"scenario {index}: {killed.stdout}{killed.stderr}"
        backend.read_state(root)   # must always parse
    final = run_bria("apply", "--auto-approve", "--settle-window", "1", cwd=root, env=env)
    assert final.returncode == 0, f"scenario {index} (kill at {kill_at}): {final.stdout}{final.stderr}"
    plan = run_bria("plan", "--detailed-exitcode", cwd=root, env=env)
    assert plan.returncode == 0, f"scenario {index} (kill at {kill_at}): {plan.stdout}"
    _check_remote(url, env["BRIA_API_TOKEN"], backend.read_state(root), f"scenario {index} (kill at {kill_at})", case)


def _check_remote(url: str, token: str, state: State, label: str, case: CrashCase = LEGACY) -> None:
    with httpx.Client(base_url=url, headers={"api_token": token}) as raw:
        projects = raw.get("/tailored-gen/projects").json()
        datasets = raw.get("/tailored-gen/datasets").json()
        models = raw.get("/tailored-gen/models").json()
        assert [p["id"] for p in projects] == [state.projects["luna"].remote_id], label
        assert [(d["id"], d["status"]) for d in datasets] == [
            (state.datasets["luna_v1"].current.remote_id, "completed")], label
        assert sorted((m["name"], m["id"]) for m in models) == sorted(
            (state.models[k].name, state.models[k].remote_id) for k in case.models), label
        images = raw.get(f"/tailored-gen/datasets/{datasets[0]['id']}/images").json()
    names = sorted(i["image_name"] for i in images)
    assert len(names) == len(case.images) == len(set(names)), f"{label}: {names}"
    recorded = state.datasets["luna_v1"].current.images
    assert sorted(i["id"] for i in images) == sorted(r.remote_id for r in recorded.values()), label
    manual = [r.caption for r in recorded.values() if r.caption_source == "manual"]
    if case.json_captions:
        manual = sorted((json.loads(c) for c in manual), key=json.dumps)
    assert sorted(manual, key=json.dumps) == case.manual, f"{label}: {manual} {images}"
    assert state.journal == (), label


@pytest.mark.slow
def test_sigkill_at_every_call_never_duplicates_and_always_converges(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    # The hook counts what we think it counts: an unkilled run makes exactly this many calls.
    probe = tmp_path / "probe"
    cli_backend.write_case(probe, CRASH_YAML, IMAGES)
    first = run_bria("apply", "--auto-approve", cwd=probe,
                     env={"BRIA_API_URL": url, "BRIA_API_TOKEN": "probe", **cli_backend.env})
    assert first.returncode == 0 and f"({EXECUTOR_CALLS} API calls)" in first.stdout, first.stdout + first.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_scenario, i, kill, tmp_path, url, cli_backend)
                   for i, kill in enumerate(KILL_POINTS[cli_backend.name])]
        for future in futures:
            future.result()


@pytest.mark.slow
def test_sigkill_during_a_fibo_apply_never_duplicates_and_always_converges(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600", "--dialect", "fibo")
    backend = CliBackend("local")
    probe = tmp_path / "probe"
    _write(FIBO, probe, backend)
    first = run_bria("apply", "--auto-approve", cwd=probe, env={"BRIA_API_URL": url, "BRIA_API_TOKEN": "probe"})
    assert first.returncode == 0 and f"({EXECUTOR_CALLS} API calls)" in first.stdout, first.stdout + first.stderr
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_scenario, i, kill, tmp_path, url, backend, FIBO)
                   for i, kill in enumerate(FIBO_KILL_POINTS)]
        for future in futures:
            future.result()
