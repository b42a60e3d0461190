"""`bria probe` against a real `bria emulator serve` in each dialect, and apply's use of the
same detection when api.dialect is not set."""

from __future__ import annotations

import json

import httpx
import pytest

from fixtures_apply import TOKEN, luna_yaml, run_bria, write_case

BAD_TOKEN = "tok-WRONG-probe-5e1f0c"


def _stats(url: str) -> dict:
    return httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()


def _projects(url: str) -> list:
    return httpx.get(url + "/tailored-gen/projects", headers={"api_token": TOKEN}).json()


def _posts(url: str, route: str) -> int:
    return _stats(url)["by_endpoint"].get(route, {}).get("requests", 0)


@pytest.mark.parametrize("dialect", ["legacy", "mixed", "fibo"])
def test_probe_identifies_each_dialect_and_leaves_nothing_behind(dialect, emulator_server, tmp_path):
    url = emulator_server("--dialect", dialect, "--token", TOKEN)
    done = run_bria("probe", "--endpoint", url, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["token_ok"], report["dialect"]) == (True, dialect)
    assert report["rate_limit"]["rate_limited"] == 0 and report["rate_limit"]["requests"] >= 4
    created = _posts(url, "POST /tailored-gen/projects")
    assert created == (1 if dialect == "mixed" else 0)   # a throwaway only where reads cannot tell
    writes = {ep: e["requests"] for ep, e in _stats(url)["by_endpoint"].items() if not ep.startswith("GET ")}
    assert writes == ({} if dialect != "mixed" else {"POST /tailored-gen/projects": 1, "POST /tailored-gen/datasets": 1,
                                                     "DELETE /tailored-gen/projects/{id}": 1})
    assert _posts(url, "DELETE /tailored-gen/projects/{id}") == created
    assert _projects(url) == []
    if dialect == "mixed":
        assert report["throwaway_project"]["name"].startswith("bria-probe-")
        assert report["throwaway_project"]["deleted"] is True
    human = run_bria("probe", "--endpoint", url, cwd=tmp_path)
    assert human.returncode == 0 and f"dialect: {dialect}" in human.stdout


def test_probe_reads_existing_datasets_without_a_throwaway(emulator_server, tmp_path):
    url = emulator_server("--dialect", "mixed", "--token", TOKEN)
    headers = {"api_token": TOKEN}
    project = httpx.post(url + "/tailored-gen/projects", headers=headers, json={
        "project_name": "mine", "ip_type": "other", "ip_medium": "photography"}).json()
    httpx.post(url + "/tailored-gen/datasets", headers=headers, json={"project_id": project["id"], "name": "d"})
    done = run_bria("probe", "--endpoint", url, "--format", "json", cwd=tmp_path)
    assert json.loads(done.stdout)["dialect"] == "mixed"
    assert _posts(url, "POST /tailored-gen/projects") == 1   # only ours
    assert [p["id"] for p in _projects(url)] == [project["id"]]


def test_probe_with_a_bad_token_exits_1_with_a_clear_message(emulator_server, tmp_path):
    url = emulator_server("--token", TOKEN)
    done = run_bria("probe", "--endpoint", url, cwd=tmp_path, env={"BRIA_API_TOKEN": BAD_TOKEN})
    assert done.returncode == 1
    assert "token: REFUSED" in done.stdout
    assert "the API refused the token (HTTP 401)" in done.stderr
    assert BAD_TOKEN not in done.stdout + done.stderr
    assert _stats(url)["by_endpoint"]["GET /tailored-gen/projects"]["requests"] == 1   # stops at once


def test_probe_reports_the_429s_it_met(emulator_server, tmp_path):
    url = emulator_server("--token", TOKEN, "--rate-limit", "600", "--rate-burst", "1")
    done = run_bria("probe", "--endpoint", url, "--format", "json", "--measure-rate", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rate = json.loads(done.stdout)["rate_limit"]
    assert rate["rate_limited"] >= 1
    assert rate["rate_limited"] == _stats(url)["rate_limited"]


def test_apply_detects_the_dialect_and_refuses_a_manifest_the_account_cannot_serve(emulator_server, tmp_path):
    url = emulator_server("--dialect", "fibo", "--token", TOKEN)
    write_case(tmp_path, luna_yaml(), {f"images/luna/{n}.png": n for n in range(5)})
    done = run_bria("apply", "--auto-approve", cwd=tmp_path, env={"BRIA_API_URL": url})
    assert done.returncode == 1
    assert "speaks the fibo dialect" in done.stderr
    assert "generate_prefix is absent" in done.stderr
    assert "dataset.luna_v1 is a legacy dataset (caption_prefix)" in done.stderr
    assert _posts(url, "POST /tailored-gen/projects") == 0 and _projects(url) == []


def test_bad_dialect_in_the_environment_exits_1(tmp_path):
    write_case(tmp_path, luna_yaml(), {f"images/luna/{n}.png": n for n in range(1)})
    done = run_bria("plan", cwd=tmp_path, env={"BRIA_API_DIALECT": "gen-z", "BRIA_API_URL": "http://127.0.0.1:9/v1"})
    assert done.returncode == 1 and "BRIA_API_DIALECT='gen-z' is not a dialect" in done.stderr


FIBO_MANIFEST = luna_yaml().replace("    complete: true", "    visual_schema: auto\n    complete: true").replace(
    "    training_version: max\n", "")


@pytest.mark.parametrize("configured", [None, "fibo"])
def test_apply_on_a_fibo_account_with_the_dialect_detected_or_configured(configured, emulator_server, tmp_path):
    url = emulator_server("--dialect", "fibo", "--token", TOKEN)
    write_case(tmp_path, FIBO_MANIFEST, {f"images/luna/{n}.png": n for n in range(5)})
    env = {"BRIA_API_URL": url, **({"BRIA_API_DIALECT": configured} if configured else {})}
    done = run_bria("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    detected = "API dialect: fibo (detected: " in done.stdout
    assert detected == (configured is None)   # detection only when the dialect is not configured
    plan = run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env=env)
    assert plan.returncode == 0, plan.stdout


def _gets(url: str) -> dict[str, int]:
    return {ep: e["requests"] for ep, e in _stats(url)["by_endpoint"].items() if ep.startswith("GET /tailored-gen/")
            and ep.count("/") == 2}


def test_apply_shares_the_probes_list_calls_with_its_refresh(emulator_server, tmp_path):
    """Detecting the dialect lists projects and datasets; the refresh lists them again with
    the models. `bria apply` asks each list once (the three at once), and the project
    create's journal watermark is that project list, under a second old (executor/account.py)."""
    url = emulator_server("--token", TOKEN)
    write_case(tmp_path, luna_yaml(), {f"images/luna/{n}.png": n for n in range(2)})
    done = run_bria("apply", "--auto-approve", "--no-wait", cwd=tmp_path, env={"BRIA_API_URL": url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "API dialect: legacy (detected: " in done.stdout
    assert _gets(url) == {"GET /tailored-gen/projects": 1, "GET /tailored-gen/datasets": 1,
                          "GET /tailored-gen/models": 1}
    plan = run_bria("plan", "--detailed-exitcode", cwd=tmp_path, env={"BRIA_API_URL": url})
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_apply_lists_again_after_a_probe_made_a_throwaway_project(emulator_server, tmp_path):
    """A mixed account with no datasets yet needs the throwaway project: the lists read
    before it are not the refresh's, which reads the account again."""
    url = emulator_server("--dialect", "mixed", "--token", TOKEN)
    write_case(tmp_path, FIBO_MANIFEST, {f"images/luna/{n}.png": n for n in range(5)})
    done = run_bria("apply", "--auto-approve", "--no-wait", cwd=tmp_path, env={"BRIA_API_URL": url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "API dialect: mixed (detected: " in done.stdout
    assert _gets(url) == {"GET /tailored-gen/projects": 2, "GET /tailored-gen/datasets": 2,
                          "GET /tailored-gen/models": 2}


def test_apply_lists_afresh_when_leftover_entries_are_resolved_first(emulator_server, tmp_path):
    """Resolving an interrupted run's journal entries may adopt or delete objects, so the
    refresh after it does not reuse the lists the dialect probe read before it."""
    from reconciler.state.local import LocalStateStore

    url = emulator_server("--token", TOKEN)
    write_case(tmp_path, luna_yaml(), {f"images/luna/{n}.png": n for n in range(3)})
    killed = run_bria("apply", "--auto-approve", "--no-wait", cwd=tmp_path,
                      env={"BRIA_API_URL": url, "BRIA_TEST_KILL_AFTER_CALLS": "4"})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert (LocalStateStore(tmp_path / "state" / "bria.json").read()).journal   # a leftover entry
    httpx.post(url.removesuffix("/v1") + "/_emulator/stats/reset")
    done = run_bria("apply", "--auto-approve", "--no-wait", cwd=tmp_path, env={"BRIA_API_URL": url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert _gets(url)["GET /tailored-gen/datasets"] == 2      # the probe's, then the refresh's own
