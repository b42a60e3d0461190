"""examples/ci/bria.yml: its structure (parsed YAML — actionlint has no wheel on PyPI, and
nothing may download a binary), and its `run:` scripts executed in order against the
emulator: plan on a pull-request checkout, apply the reviewed plan on main, a refused plan
and an invalid manifest that still produce the comment body, and a main that moved since
the review, which applies nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from fixtures_apply import TOKEN, luna_images, luna_yaml, write_case
from fixtures_emulator import make_png

WORKFLOW = Path(__file__).resolve().parent.parent / "examples" / "ci" / "bria.yml"
MINIMUM_MAJORS = {"actions/checkout": 4, "actions/setup-python": 5, "actions/github-script": 7,
                  "actions/upload-artifact": 4, "actions/download-artifact": 4}


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))     # YAML 1.1 reads the key `on` as true
    return data


def step(job: str, step_id: str) -> dict:
    return next(s for s in workflow()["jobs"][job]["steps"] if s.get("id") == step_id or s.get("name") == step_id)


def test_the_workflow_is_shaped_for_safe_gitops():
    wf = workflow()
    assert set(wf["on"]) == {"pull_request", "push"} and wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"]["group"] and wf["concurrency"]["cancel-in-progress"] is False
    assert wf["permissions"] == {"contents": "read", "pull-requests": "write", "actions": "read"}
    for name, job in wf["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{name} has no timeout-minutes"
        for s in job["steps"]:
            uses = s.get("uses")
            if not uses:
                continue
            action, _, version = uses.partition("@")
            assert int(version.lstrip("v").split(".")[0]) >= MINIMUM_MAJORS[action], uses
            if action == "actions/checkout":
                assert s["with"]["lfs"] is True, f"{name}: checkout without lfs: true"
    fork = "github.event.pull_request.head.repo.full_name"
    assert f"{fork} != github.repository" in wf["jobs"]["fork-notice"]["if"]
    assert f"{fork} == github.repository" in wf["jobs"]["plan"]["if"]
    assert "forks get no secrets" in wf["jobs"]["fork-notice"]["steps"][0]["run"]
    assert "secrets." not in json.dumps(wf["jobs"]["fork-notice"])

    comment = step("plan", "Comment the plan on the pull request")
    assert "always()" in comment["if"]
    assert "github.paginate(github.rest.issues.listComments" in comment["with"]["script"]
    uploads = [s for s in wf["jobs"]["plan"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and "always()" in uploads[0]["if"] and uploads[0]["with"]["path"] == "plan.json"
    assert "--reviewed-plan reviewed/plan.json" in step("apply", "apply")["run"]
    download = next(s for s in wf["jobs"]["apply"]["steps"] if str(s.get("uses", "")).startswith("actions/download"))
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run_id }}"
    # The run scripts take everything from the environment, so the test below runs them verbatim.
    for job in wf["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), s.get("name")


class Checkout:
    """A checkout of the repository (a pull-request branch, or main) sharing one state file."""

    def __init__(self, root: Path, url: str, state: Path):
        self.root, self.url, self.state = root, url, state

    def write(self, manifest_yaml: str, images: dict) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        write_case(self.root, manifest_yaml + f"state:\n  path: {self.state}\n", images)

    def run_step(self, job: str, step_id: str, **env: str) -> tuple[int, dict[str, str]]:
        """Run a step's `run:` script as GitHub does (bash -e -o pipefail); returns its exit
        code and what it wrote to $GITHUB_OUTPUT."""
        outputs = self.root / ".github_output"
        outputs.write_text("")
        script = step(job, step_id)["run"]
        full_env = {**os.environ, "MANIFEST": "bria.yaml", "NO_COLOR": "1", "BRIA_API_URL": self.url,
                    "BRIA_API_TOKEN": TOKEN, "GITHUB_OUTPUT": str(outputs),
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
                              cwd=self.root, env=full_env, capture_output=True, text=True, timeout=300)
        written = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
        self.last = done
        return done.returncode, written

    def comment(self) -> str:
        return (self.root / "comment.md").read_text(encoding="utf-8")


def remote_counts(url: str) -> dict[str, int]:
    with httpx.Client(base_url=url, headers={"api_token": TOKEN}) as raw:
        return {kind: len(raw.get(f"/tailored-gen/{kind}").json()) for kind in ("projects", "datasets", "models")}


def mutations_made(url: str) -> int:
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats").json()
    return sum(e.get("requests", 0) for ep, e in stats.get("by_endpoint", {}).items() if not ep.startswith("GET "))


def review_and_merge(pr: Checkout, main: Checkout, manifest_yaml: str, images: dict) -> None:
    """Plan on the PR branch, then put the PR's content and its plan artifact on main."""
    pr.write(manifest_yaml, images)
    code, out = pr.run_step("plan", "plan")
    assert code == 0 and out["exit_code"] in ("0", "2"), pr.last.stderr
    main.write(manifest_yaml, images)
    (main.root / "reviewed").mkdir()
    shutil.copy(pr.root / "plan.json", main.root / "reviewed" / "plan.json")


def test_the_example_pipeline_plans_comments_and_applies_only_what_was_reviewed(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600", "--stopping-seconds", "0.2")
    state = tmp_path / "shared-state" / "bria.json"
    pr, main = Checkout(tmp_path / "pr", url, state), Checkout(tmp_path / "main", url, state)
    images = luna_images(2)

    # 1. A PR adds everything: the comment shows the plan; after the merge, main applies it.
    review_and_merge(pr, main, luna_yaml(), images)
    assert pr.comment().startswith("<!-- bria-plan -->\n### bria plan") and "Plan: 3 to add" in pr.comment()
    assert main.run_step("apply", "apply")[0] == 0, main.last.stdout + main.last.stderr
    assert remote_counts(url) == {"projects": 1, "datasets": 1, "models": 1}

    # 2. A PR that deletes a trained model without a removed block: refused, and the comment says so.
    pr.write(luna_yaml().split("models:\n")[0], images)
    code, out = pr.run_step("plan", "plan")
    assert code == 0 and out["exit_code"] == "6"
    assert "refused" in pr.comment() and "removed:" in pr.comment()
    assert pr.run_step("plan", "Fail unless the plan succeeded", PLAN_EXIT="6")[0] == 6

    # 3. An invalid manifest: the error, with its line, reaches the comment too.
    pr.write(luna_yaml().replace("ip_medium: illustration", "ip_medium: clay"), images)
    code, out = pr.run_step("plan", "plan")
    assert code == 0 and out["exit_code"] == "1"
    assert re.search(r"bria\.yaml:\d+:\d+: error: .*ip_medium", pr.comment()), pr.comment()
    assert "bria plan failed (exit 1)" in pr.comment()

    # 4. A reviewed rename, but main also got an image nobody reviewed: nothing is applied.
    renamed = luna_yaml().replace("name: Luna max", "name: Luna main")
    review_and_merge(pr, main, renamed, images)
    (main.root / "images/luna/unreviewed.png").write_bytes(make_png(256, 256, 77))
    before = mutations_made(url)
    code, _ = main.run_step("apply", "apply")
    assert code == 4, main.last.stdout + main.last.stderr
    assert "differs from the reviewed plan" in main.last.stderr and "upload_image" in main.last.stderr
    assert mutations_made(url) == before, "a plan that differs from the reviewed one changes nothing"

    # 5. Main as reviewed: applied.
    (main.root / "images/luna/unreviewed.png").unlink()
    assert main.run_step("apply", "apply")[0] == 0, main.last.stderr
    assert "matches the reviewed plan" in main.last.stdout
    with httpx.Client(base_url=url, headers={"api_token": TOKEN}) as raw:
        assert [m["name"] for m in raw.get("/tailored-gen/models").json()] == ["Luna main"]
