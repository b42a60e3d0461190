"""`bria apply / destroy / import / output` as a user runs them: subprocesses against
`bria emulator serve` (or the embedded emulator), checking exit codes and what the API holds.
The tests against `bria emulator serve` run with each state backend (local file, PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from fixtures_apply import TOKEN, CliBackend, luna_images, luna_yaml, run_bria, with_sol_project, write_case

from reconciler.images import file_identity

SOL_YAML = with_sol_project(luna_yaml())


def api(base_url: str, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"api_token": token})


def counts(base_url: str, token: str = TOKEN) -> dict[str, int]:
    with api(base_url, token) as raw:
        datasets = raw.get("/tailored-gen/datasets").json()
        return {"projects": len(raw.get("/tailored-gen/projects").json()), "datasets": len(datasets),
                "models": len(raw.get("/tailored-gen/models").json()),
                "images": sum(len(raw.get(f"/tailored-gen/datasets/{d['id']}/images").json()) for d in datasets)}


def requests_made(base_url: str) -> int:
    stats = httpx.get(base_url.removesuffix("/v1") + "/_emulator/stats").json()
    return int(stats.get("requests") or sum(e.get("requests", 0) for e in stats.get("endpoints", {}).values()))


def mutations_made(base_url: str) -> int:
    """Requests other than GET that the emulator has seen (by endpoint "METHOD /path")."""
    stats = httpx.get(base_url.removesuffix("/v1") + "/_emulator/stats").json()
    return sum(e.get("requests", 0) for ep, e in stats.get("by_endpoint", {}).items() if not ep.startswith("GET "))


def test_without_tty_and_without_auto_approve_nothing_happens(tmp_path, emulator_server, cli_backend):
    url = emulator_server()
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    result = run_bria("apply", cwd=tmp_path, env={"BRIA_API_URL": url, **cli_backend.env})
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    # The plan was computed (read-only refresh), but nothing was changed.
    assert mutations_made(url) == 0
    assert cli_backend.read_state(tmp_path) is None


def test_without_tty_an_up_to_date_manifest_applies_cleanly(tmp_path, emulator_server, cli_backend):
    """Like terraform: with nothing to do there is nothing to approve, so exit 0."""
    url = emulator_server()
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    before = mutations_made(url)
    assert before > 0          # the first apply really created things
    result = run_bria("apply", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    assert mutations_made(url) == before


def test_apply_then_plan_is_clean_and_output_reports_models(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(3))
    result = run_bria("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Apply complete" in result.stdout and "\x1b[" not in result.stdout
    assert TOKEN not in result.stdout + result.stderr + json.dumps(cli_backend.state_document(tmp_path))
    assert run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0
    assert counts(url) == {"projects": 1, "datasets": 1, "models": 1, "images": 3}

    output = json.loads(run_bria("output", "--format", "json", cwd=tmp_path, env=env).stdout)
    model = output["models"]["model.luna_max"]["newest"]
    assert model["status"] == "InProgress" and model["generation_prefix"]
    assert model["remote_id"] == cli_backend.read_state(tmp_path).models["luna_max"].remote_id
    assert output["models"]["model.luna_max"]["newest_completed"] is None


def test_saved_plan_applies_once_then_is_stale(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    assert run_bria("plan", "--out", "plan.json", cwd=tmp_path, env=env).returncode in (0, 2)
    first = run_bria("apply", "plan.json", cwd=tmp_path, env=env)   # a saved plan needs no approval
    assert first.returncode == 0, first.stderr
    again = run_bria("apply", "plan.json", cwd=tmp_path, env=env)
    assert again.returncode == 4 and "stale" in again.stderr
    assert counts(url)["projects"] == 1


def test_saved_plan_is_stale_when_the_manifest_changed(tmp_path, emulator_server, cli_backend):
    url = emulator_server()
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    run_bria("plan", "--out", "plan.json", cwd=tmp_path, env=env)
    cli_backend.write_case(tmp_path, luna_yaml(), {"images/luna/extra.png": 99})
    before = requests_made(url)
    result = run_bria("apply", "plan.json", cwd=tmp_path, env=env)
    assert result.returncode == 4 and "manifest" in result.stderr
    assert requests_made(url) == before


def test_destroy_is_refused_for_protected_resources_unless_allowed(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600", "--stopping-seconds", "0.3")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    refused = run_bria("destroy", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.returncode == 6 and "project.luna" in refused.stderr
    assert "re-run with --allow-destroy model.luna_max --allow-destroy project.luna" in refused.stderr
    assert "reason: bria destroy" in refused.stdout and "removed from manifest" not in refused.stdout
    assert counts(url)["projects"] == 1
    done = run_bria("destroy", "--auto-approve", "--allow-destroy", "all", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(url) == {"projects": 0, "datasets": 0, "models": 0, "images": 0}
    assert cli_backend.read_state(tmp_path).addresses() == []


def test_failed_change_exits_5_skips_dependents_and_finishes_the_rest(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    images = {**luna_images(2), "images/sol/a.png": 50}
    cli_backend.write_case(tmp_path, SOL_YAML, images)
    assert run_bria("plan", "--out", "plan.json", cwd=tmp_path, env=env).returncode in (0, 2)
    # Same size, same mtime, different bytes, and a hash cache that vouches for the new file
    # (as one on a filesystem with unreliable ctimes might): the manifest load cannot see the
    # change, the executor (which re-hashes what it uploads) must.
    path = tmp_path / "images/luna/luna_001.png"
    data, stat = bytearray(path.read_bytes()), path.stat()
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    cache_file = tmp_path / ".bria" / "image-cache.json"
    cache = json.loads(cache_file.read_text())
    cache["entries"][str(path)].update(file_identity(path.stat()))
    cache_file.write_text(json.dumps(cache))

    result = run_bria("apply", "plan.json", cwd=tmp_path, env=env)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "images/luna/luna_001.png: file changed since plan" in result.stdout
    assert "model.luna_max: skipped because dataset.luna_v1 failed" in result.stdout
    assert "State is saved" in result.stdout
    with api(url) as raw:
        assert [p["project_name"] for p in raw.get("/tailored-gen/projects").json()] == ["StoryCharacter_Luna", "Sol"]
        assert [d["name"] for d in raw.get("/tailored-gen/datasets").json() if d["status"] == "completed"] == ["Sol set"]
        assert raw.get("/tailored-gen/models").json() == []


def test_sigint_cancels_cleanly_and_a_rerun_converges(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--latency-ms", "100", "--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(12))
    process = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "2"],
                               cwd=tmp_path, env={**os.environ, "BRIA_API_TOKEN": TOKEN, "NO_COLOR": "1", **env},
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if "uploaded" in line:
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=60)
    assert process.returncode == 8, out + err
    assert "Apply cancelled" in out and "Cancelling" in err
    state = cli_backend.read_state(tmp_path)
    assert state.journal == ()
    assert 0 < len(state.datasets["luna_v1"].current.images) < 12 and "luna_max" not in state.models

    rerun = run_bria("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0
    assert counts(url) == {"projects": 1, "datasets": 1, "models": 1, "images": 12}


def test_import_adopts_existing_objects(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(2))
    # Made by hand in the console (through the raw API) — including one image bria's way.
    with api(url) as raw:
        project = raw.post("/tailored-gen/projects", json={
            "project_name": "StoryCharacter_Luna", "project_description": "Heroine of the picture books",
            "ip_type": "defined_character", "ip_medium": "illustration", "ip_name": "Luna",
            "ip_description": "girl with blue hair"}).json()
        dataset = raw.post("/tailored-gen/datasets", json={"project_id": project["id"], "name": "Luna training set"}).json()
        import base64
        first = tmp_path / "images/luna/luna_000.png"
        raw.post(f"/tailored-gen/datasets/{dataset['id']}/images",
                 json={"file": base64.b64encode(first.read_bytes()).decode(), "image_name": "luna_000.png"})
        model = raw.post("/tailored-gen/models", json={"name": "Luna max", "dataset_id": dataset["id"],
                                                        "training_version": "max"}).json()
    assert run_bria("import", "project.luna", str(project["id"]), cwd=tmp_path, env=env).returncode == 0
    result = run_bria("import", "dataset.luna_v1", str(dataset["id"]), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert run_bria("import", "model.luna_max", str(model["id"]), cwd=tmp_path, env=env).returncode == 0
    again = run_bria("import", "project.luna", str(project["id"]), cwd=tmp_path, env=env)
    assert again.returncode == 1 and "already in state" in again.stderr
    state = cli_backend.read_state(tmp_path)
    assert state.projects["luna"].remote_id == project["id"]
    assert len(state.datasets["luna_v1"].current.images) == 1   # matched to luna_000.png by file name

    plan = json.loads(run_bria("plan", "--format", "json", cwd=tmp_path, env=env).stdout)
    by_address = {c["address"]: c for c in plan["changes"]}
    assert "project.luna" not in by_address          # adopted, not created again
    assert by_address["dataset.luna_v1"]["images"]["upload"] == ["images/luna/luna_001.png"]
    assert [s["op"] for s in by_address["model.luna_max"]["steps"]] == ["start_training"]
    assert run_bria("apply", "--auto-approve", cwd=tmp_path, env=env).returncode == 0
    assert counts(url) == {"projects": 1, "datasets": 1, "models": 1, "images": 2}
    with api(url) as raw:
        assert raw.get(f"/tailored-gen/models/{model['id']}").json()["status"] == "InProgress"


def test_import_refuses_an_object_under_another_parent(tmp_path, emulator_server, cli_backend):
    url = emulator_server()
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(1))
    with api(url) as raw:
        mine = raw.post("/tailored-gen/projects", json={"project_name": "A", "ip_type": "other",
                                                         "ip_medium": "photography"}).json()
        other = raw.post("/tailored-gen/projects", json={"project_name": "B", "ip_type": "other",
                                                          "ip_medium": "photography"}).json()
        dataset = raw.post("/tailored-gen/datasets", json={"project_id": other["id"], "name": "x"}).json()
    assert run_bria("import", "project.luna", str(mine["id"]), cwd=tmp_path, env=env).returncode == 0
    result = run_bria("import", "dataset.luna_v1", str(dataset["id"]), cwd=tmp_path, env=env)
    assert result.returncode == 1 and "belongs to project" in result.stderr
    assert "luna_v1" not in cli_backend.read_state(tmp_path).datasets


def test_quickstart_with_the_embedded_emulator_and_wait(tmp_path):
    yaml = "api:\n  endpoint: emulator\n  emulator:\n    training_seconds: 1\n" + luna_yaml()
    write_case(tmp_path, yaml, luna_images(2))
    env = {"BRIA_API_TOKEN": ""}
    result = run_bria("apply", "--auto-approve", "--wait", "--poll-interval", "0.2", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "model.luna_max: Completed" in result.stdout and "training ended Completed" in result.stdout
    assert run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0
    assert CliBackend("local").read_state(tmp_path).models["luna_max"].status == "Completed"



def test_readme_quickstart_on_the_luna_example(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "luna"
    shutil.copytree(example, tmp_path / "luna", ignore=shutil.ignore_patterns("state", ".bria"))
    env = {"BRIA_API_TOKEN": ""}
    result = run_bria("apply", "-f", "luna/bria.yaml", "--auto-approve", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Apply complete: 3 succeeded" in result.stdout
    assert run_bria("plan", "-f", "luna/bria.yaml", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0
