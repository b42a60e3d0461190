"""`bria plan` and `bria show` end to end against the embedded emulator (endpoint: emulator)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.model import Plan
from reconciler.render.json import validate_plan
from reconciler.state.local import LocalStateStore

GOLDEN = Path(__file__).parent / "golden"
SECRET = "s3cret-token-never-printed"


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    """A manifest folder (the golden no_change manifest + images); cwd is set to it."""
    shutil.copytree(GOLDEN / "_images", tmp_path / "images")
    shutil.copy(GOLDEN / "no_change" / "manifest.yaml", tmp_path / "bria.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIA_API_URL", raising=False)
    monkeypatch.delenv("BRIA_STATE_BACKEND", raising=False)
    monkeypatch.setenv("BRIA_API_TOKEN", SECRET)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def bria(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert SECRET not in result.output
    return result


def _applied(project_dir: Path) -> None:
    result = bria("apply", "--auto-approve")
    assert result.exit_code == 0, result.output


def test_detailed_exitcode_reports_changes_then_none_after_apply(project_dir):
    assert bria("plan").exit_code == 0
    first = bria("plan", "--detailed-exitcode")
    assert first.exit_code == 2 and "project.luna will be created" in first.output
    assert not (project_dir / "state" / "bria.json").exists()      # plan never writes state
    _applied(project_dir)
    again = bria("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_out_saves_the_json_plan_and_formats_render_it(project_dir):
    result = bria("plan", "--out", "plans/next.json")
    assert result.exit_code == 0 and "bria apply plans/next.json" in result.output
    saved = json.loads((project_dir / "plans" / "next.json").read_text())
    assert validate_plan(saved) == []
    assert [c["address"] for c in saved["changes"]] == ["project.luna", "dataset.luna_v1", "model.luna_max"]
    assert Plan.from_dict(saved).to_dict() == saved
    as_json = json.loads(bria("plan", "--format", "json").output)
    assert as_json["changes"] == saved["changes"] and as_json["manifest_digest"] == saved["manifest_digest"]
    markdown = bria("plan", "--format", "markdown").output
    assert "3 to add" in markdown and "<details>" in markdown
    assert SECRET not in (project_dir / "plans" / "next.json").read_text()


def test_lock_held_by_another_run_exits_3_naming_the_holder(project_dir):
    store = LocalStateStore(project_dir / "state" / "bria.json")
    store.lock("bria apply (held by the test)")
    try:
        result = bria("plan")
    finally:
        store.unlock()
    assert result.exit_code == 3
    assert "bria apply (held by the test)" in result.output and "locked" in result.output


def test_bad_manifest_exits_1_without_any_api_call(project_dir, monkeypatch):
    (project_dir / "bria.yaml").write_text("version: 1\nprojects:\n  luna:\n    name: [unclosed\n")
    monkeypatch.setenv("BRIA_API_URL", "http://127.0.0.1:9/v1")    # any call would fail loudly
    result = bria("plan")
    assert result.exit_code == 1 and "bria.yaml:" in result.output
    assert "live API" not in result.output and not (project_dir / "state").exists()


def test_refused_destroy_exits_6_until_allowed(project_dir):
    _applied(project_dir)
    text = (project_dir / "bria.yaml").read_text()
    (project_dir / "bria.yaml").write_text(text.split("models:")[0])
    refused = bria("plan", "--detailed-exitcode")
    assert refused.exit_code == 6 and "--allow-destroy model.luna_max" in refused.output
    allowed = bria("plan", "--detailed-exitcode", "--allow-destroy", "model.luna_max")
    assert allowed.exit_code == 2


def test_unknown_target_and_missing_token_exit_1(project_dir, monkeypatch):
    result = bria("plan", "--target", "model.nope")
    assert result.exit_code == 1 and "model.nope" in result.output
    monkeypatch.delenv("BRIA_API_TOKEN")
    monkeypatch.setenv("BRIA_API_URL", "http://127.0.0.1:9/v1")
    result = bria("plan")
    assert result.exit_code == 1 and "BRIA_API_TOKEN" in result.output


def test_no_refresh_makes_no_api_call(project_dir, monkeypatch):
    monkeypatch.setenv("BRIA_API_URL", "http://127.0.0.1:9/v1")
    result = bria("plan", "--no-refresh", "--detailed-exitcode", "--target", "project.luna")
    assert result.exit_code == 2 and "dataset.luna_v1" not in result.output


def test_show_lists_state_resources_and_one_address(project_dir):
    assert "empty" in bria("show").output
    _applied(project_dir)
    everything = bria("show")
    assert everything.exit_code == 0
    for expected in ("project.luna  (remote #", "dataset.luna_v1", "images: 2 (1 with a manual caption)",
                     "model.luna_max", "status: InProgress"):
        assert expected in everything.output
    one = json.loads(bria("show", "model.luna_max", "--format", "json").output)
    assert list(one["resources"]) == ["model.luna_max"] and one["resources"]["model.luna_max"]["status"]
    assert bria("show", "model.nope").exit_code == 1


def test_console_script_runs_plan_in_a_subprocess(project_dir):
    result = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode", "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["summary"]["add"] == 3
