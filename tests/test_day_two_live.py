"""Day two, live status: `bria refresh`, `bria wait`, `bria output` (versioned JSON with the
newest and the newest Completed model), `show --refresh`, and the apply summary agreeing
with training outcomes — as a pipeline runs them, against `bria emulator serve`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fixtures_apply import TOKEN, luna_images, luna_yaml, run_bria, write_case
from fixtures_emulator import make_png


def mutations_made(base_url: str) -> int:
    stats = httpx.get(base_url.removesuffix("/v1") + "/_emulator/stats").json()
    return sum(e.get("requests", 0) for ep, e in stats.get("by_endpoint", {}).items() if not ep.startswith("GET "))


def output_json(cwd: Path, env: dict[str, str], *extra: str) -> dict:
    done = run_bria("output", "--format", "json", *extra, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def start_bria(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=cwd,
                            env={**os.environ, "BRIA_API_TOKEN": TOKEN, "NO_COLOR": "1", **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt_when(process: subprocess.Popen, marker: str) -> tuple[str, str]:
    """SIGINT once `marker` appears on stdout; returns (stdout, stderr) after it exits."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=60)
    return "".join(seen) + out, err


def test_pipeline_wait_then_output_names_the_completed_model_while_a_replacement_trains(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "1")
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(), luna_images(2))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0

    waited = run_bria("wait", "--timeout", "60", "--poll-interval", "0.2", cwd=tmp_path, env=env)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "All trainings completed" in waited.stdout
    first = output_json(tmp_path, env)
    assert first["format_version"] == 1 and first["refreshed_at"]
    model = first["models"]["model.luna_max"]
    assert model["newest"]["status"] == "Completed" and model["newest"]["generation_prefix"]
    assert model["newest_completed"] == model["newest"]

    # A new image: the model is replaced, and the replacement trains.
    (tmp_path / "images/luna/extra.png").write_bytes(make_png(256, 256, 99))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    training = output_json(tmp_path, env)["models"]["model.luna_max"]
    assert training["newest"]["status"] == "InProgress"
    assert training["newest"]["remote_id"] != model["newest"]["remote_id"]
    assert training["newest_completed"] == model["newest"], "the app keeps the model that can generate"
    assert training["superseded"] == [model["newest"]["remote_id"]]
    human = run_bria("output", cwd=tmp_path, env=env).stdout
    assert f"newest Completed id {model['newest']['remote_id']}" in human and "Statuses as of" in human

    assert run_bria("wait", "model.luna_max", "--poll-interval", "0.2", cwd=tmp_path, env=env).returncode == 0
    done = output_json(tmp_path, env)["models"]["model.luna_max"]
    assert done["newest"]["status"] == "Completed" and done["newest_completed"] == done["newest"]


def test_refresh_absorbs_statuses_reports_drift_and_changes_nothing(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "1")
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(), luna_images(1))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    state_path = tmp_path / "state" / "bria.json"
    model_id = json.loads(state_path.read_text())["resources"]["model.luna_max"]["remote_id"]
    with httpx.Client(base_url=url, headers={"api_token": TOKEN}) as raw:
        assert raw.put(f"/tailored-gen/models/{model_id}", json={"name": "renamed in console"}).status_code == 200
    before = mutations_made(url)

    deadline = time.monotonic() + 60
    while True:
        done = run_bria("refresh", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        record = json.loads(state_path.read_text())["resources"]["model.luna_max"]
        if record["status"] == "Completed" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert record["status"] == "Completed" and record["generation_prefix"]
    assert "drift: model.luna_max changed outside bria: name 'Luna max' → 'renamed in console'" in done.stdout
    assert record["name"] == "Luna max", "drift is not absorbed: the next plan reverts it"
    assert mutations_made(url) == before, "refresh must not change the API"
    plan = run_bria("plan", "--detailed-exitcode", "--format", "json", cwd=tmp_path, env=env)
    assert plan.returncode == 2 and "update_model" in plan.stdout

    shown = run_bria("show", "model.luna_max", cwd=tmp_path, env=env).stdout
    assert "status: Completed" in shown and "Statuses as of" in shown
    assert run_bria("show", "--refresh", cwd=tmp_path, env=env).returncode == 0
    assert output_json(tmp_path, env, "--refresh")["refreshed_at"]


def test_a_failed_training_under_wait_is_counted_failed_and_wait_exits_5(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "0.3", "--failure-rate", "1")
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(), luna_images(1))
    applied = run_bria("apply", "--auto-approve", "--wait", "--poll-interval", "0.1", cwd=tmp_path, env=env)
    assert applied.returncode == 5, applied.stdout + applied.stderr
    assert "Apply partly done: 2 succeeded, 1 failed" in applied.stdout
    assert "✗ model.luna_max: training ended Failed" in applied.stdout

    waited = run_bria("wait", "--poll-interval", "0.1", cwd=tmp_path, env=env)
    assert waited.returncode == 5 and "did not complete: model.luna_max" in waited.stdout


def test_wait_reattaches_after_an_interrupted_apply_wait_times_out_and_is_cancellable(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(), luna_images(1))
    apply = start_bria("apply", "--auto-approve", "--wait", "--poll-interval", "0.1", cwd=tmp_path, env=env)
    out, err = interrupt_when(apply, "model.luna_max: InProgress")
    assert apply.returncode == 8, out + err
    assert "`bria wait` follows it" in out

    timed = run_bria("wait", "--timeout", "0.5", "--poll-interval", "0.1", cwd=tmp_path, env=env)
    assert timed.returncode == 7, timed.stdout + timed.stderr
    assert "still training: model.luna_max" in timed.stdout

    wait = start_bria("wait", "--poll-interval", "0.1", cwd=tmp_path, env=env)
    out, err = interrupt_when(wait, "model.luna_max: InProgress")
    assert wait.returncode == 8, out + err
    assert "Run `bria wait` again" in out


def test_wait_refuses_unknown_and_untrained_models_without_api_calls(tmp_path, emulator_server):
    url = emulator_server()
    env = {"BRIA_API_URL": url}
    write_case(tmp_path, luna_yaml(train=False), luna_images(1))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    for args, message in ((("model.nope",), "not in the state"), (("dataset.luna_v1",), "only models train"),
                          (("model.luna_max",), "has not started training")):
        done = run_bria("wait", *args, cwd=tmp_path, env=env)
        assert done.returncode == 1 and message in done.stderr, done.stderr
    assert run_bria("wait", cwd=tmp_path, env=env).returncode == 0


def test_show_renders_a_saved_plan_and_no_color_is_accepted_anywhere(tmp_path):
    write_case(tmp_path, "api:\n  endpoint: emulator\n" + luna_yaml(), luna_images(1))
    saved = run_bria("plan", "--out", "plan.json", "--no-color", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    shown = run_bria("show", "plan.json", cwd=tmp_path)
    assert shown.returncode == 0 and "Plan: 3 to add" in shown.stdout and "1 image to upload" in shown.stdout
    markdown = run_bria("--no-color", "show", "plan.json", "--format", "markdown", cwd=tmp_path)
    assert markdown.stdout.startswith("### bria plan") and "\x1b[" not in markdown.stdout
    (tmp_path / "junk.json").write_text("{}")
    bad = run_bria("show", "junk.json", cwd=tmp_path)
    assert bad.returncode == 1 and "junk.json: not a readable bria plan" in bad.stderr
