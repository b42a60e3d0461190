"""Bad input never does damage: every bad manifest, file or flag on every `bria` command gets a
clear message, exit 1 (or its documented code), no API call and no state change.

Everything talks to a real `bria emulator serve` (see fixtures_bad_input.py). Representative
cases run the real console script in a subprocess; the big matrices (every command × every
kind of bad input) go through the same click `main` in-process, to stay fast. "No API call"
is read from the emulator's own request counters, "no state change" from the bytes of every
file in the workspace (state, backup, saved plans, manifest, images).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from fixtures_bad_input import Workspace
from fixtures_emulator import make_png
from fixtures_manifest import BAD_MANIFESTS, bad_case_names, read_expectations, run_setup

from reconciler.images import file_identity

STATE_FILE = "state/bria.json"


def assert_refused(ws: Workspace, done: subprocess.CompletedProcess, before: dict[str, str], *,
                   says: str, code: int = 1, requests_allowed: bool = False) -> None:
    """The run failed with `code`, said `says` on stderr, changed no file and called no API
    (or, with requests_allowed, made only reads)."""
    assert done.returncode == code, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert says in done.stderr, f"expected {says!r} in stderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    assert ws.snapshot() == before, "files changed"
    assert ws.mutations() == {}, "mutating API calls were made"
    if not requests_allowed:
        assert ws.requests() == 0, f"API calls were made: {ws.stats()['by_endpoint']}"


def test_the_request_counters_do_count(applied_workspace: Workspace, fresh_workspace: Workspace) -> None:
    """Positive control for every `requests() == 0` / `mutations() == {}` below: the same
    counters read non-zero when a good command does call the API."""
    planned = applied_workspace.invoke("plan")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert applied_workspace.requests() > 0
    assert applied_workspace.mutations() == {}          # a plan only reads
    applied = fresh_workspace.invoke("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert fresh_workspace.mutations().get("POST /tailored-gen/projects") == 1, fresh_workspace.mutations()


# --- bad manifests ---------------------------------------------------------------------------

COMMANDS_WITH_A_MANIFEST = [("plan",), ("plan", "--detailed-exitcode"), ("apply", "--auto-approve"),
                            ("destroy", "--auto-approve"), ("import", "project.luna", "1"), ("show",), ("output",),
                            ("state", "list"), ("state", "pull"), ("state", "rm", "project.luna"),
                            ("force-unlock", "x")]


def _bad_case_over_applied_state(name: str, ws: Workspace) -> Path:
    """The bad-manifest corpus case `name` laid over a workspace that already has state."""
    case = ws.root / "case"
    shutil.copytree(BAD_MANIFESTS / name, case)
    run_setup(case)
    shutil.copytree(ws.root / "state", case / "state")
    return case


def _assert_positions(stderr: str, manifest: Path, case: Path) -> None:
    for line_no, field, message in read_expectations(case):
        assert any(line.startswith(f"{manifest}:{line_no}:") and message in line
                   and (field is None or f" {field}: " in line) for line in stderr.splitlines()), \
            f"expected {manifest}:{line_no} {field} {message!r} in:\n{stderr}"


@pytest.mark.parametrize("case", ["bad_enum", "missing_image_file", "duplicate_key", "alias_bomb"])
def test_bad_manifest_stops_every_command_before_any_call(applied_workspace: Workspace, case: str) -> None:
    ws = applied_workspace
    case_dir = _bad_case_over_applied_state(case, ws)
    manifest = case_dir / "bria.yaml"
    before = ws.snapshot()
    for args in COMMANDS_WITH_A_MANIFEST:
        done = ws.invoke(*args, "-f", str(manifest))
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        _assert_positions(done.stderr, manifest, case_dir)
        assert f"{manifest}: invalid" in done.stderr, (args, done.stderr)
    assert ws.snapshot() == before
    assert ws.requests() == 0, ws.stats()["by_endpoint"]


@pytest.mark.parametrize("case", bad_case_names())
def test_whole_corpus_never_reaches_the_api_from_plan(applied_workspace: Workspace, case: str) -> None:
    """Every corpus case: plan exits 1 with no request to the server and no file changed."""
    ws = applied_workspace
    case_dir = _bad_case_over_applied_state(case, ws)
    before = ws.snapshot()
    done = ws.invoke("plan", "-f", str(case_dir / "bria.yaml"))
    assert done.returncode == 1 and "invalid" in done.stderr, done.stdout + done.stderr
    assert ws.snapshot() == before
    assert ws.requests() == 0


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve"), ("destroy", "--auto-approve"),
                                     ("import", "project.luna", "1")])
def test_bad_manifest_builds_no_embedded_emulator_and_no_state(fresh_workspace: Workspace,
                                                               command: tuple[str, ...]) -> None:
    """With the embedded emulator a built client leaves a SQLite file: none may appear."""
    ws = fresh_workspace
    ws.manifest.write_text(ws.manifest.read_text().replace("ip_medium: illustration", "ip_medium: painting"))
    before = ws.snapshot()
    done = ws.run(*command, env=ws.env(BRIA_API_URL="emulator"))
    assert done.returncode == 1 and "bria.yaml:" in done.stderr and "ip_medium" in done.stderr, done.stderr
    assert ws.snapshot() == before
    assert not (ws.root / "state").exists()


# --- missing, unreadable, wrong-kind manifest files -----------------------------------------

MANIFEST_COMMANDS = [("validate",), *COMMANDS_WITH_A_MANIFEST]


@pytest.mark.parametrize("what", ["missing", "directory", "not_utf8", "empty"])
def test_manifest_file_problems_on_every_command(fresh_workspace: Workspace, what: str) -> None:
    ws = fresh_workspace
    target = ws.root / "other.yaml"
    if what == "directory":
        target.mkdir()
    elif what == "not_utf8":
        target.write_bytes(b"version: 1\nprojects: {\xff\xfe: 1}\n")
    elif what == "empty":
        target.write_bytes(b"")
    before = ws.snapshot()
    for args in MANIFEST_COMMANDS:
        done = ws.invoke(*args, "-f", "other.yaml")
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "other.yaml" in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    assert ws.snapshot() == before and not (ws.root / "state").exists()
    assert ws.requests() == 0


AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.skipif(AS_ROOT and not Path("/proc/self/mem").exists(), reason="root reads any file")
def test_unreadable_manifest(fresh_workspace: Workspace) -> None:
    ws = fresh_workspace
    original = ws.manifest.read_bytes()
    if AS_ROOT:   # root reads a mode-0 file; reading /proc/self/mem at offset 0 fails (EIO) even for root
        ws.manifest.unlink()
        ws.manifest.symlink_to("/proc/self/mem")
    else:
        ws.manifest.chmod(0)
    try:
        for done in ws.run_many([("validate",), ("plan",), ("apply", "--auto-approve"), ("show",)]):
            assert done.returncode == 1 and "bria.yaml" in done.stderr and "Traceback" not in done.stderr, done
            assert "cannot read" in done.stderr, done.stderr
        assert ws.requests() == 0 and not (ws.root / "state").exists()
    finally:
        if ws.manifest.is_symlink():
            ws.manifest.unlink()
            ws.manifest.write_bytes(original)
        else:
            ws.manifest.chmod(0o644)


# --- bad flags and values ---------------------------------------------------------------------

BAD_FLAGS = {
    "unknown-option": (("plan", "--bogus"), "No such option"),
    "unknown-option-detailed": (("plan", "--detailed-exitcode", "--bogus"), "No such option"),
    "plan-has-no-parallelism": (("plan", "--parallelism", "0"), "No such option"),
    "parallelism-0": (("apply", "--auto-approve", "--parallelism", "0"), "--parallelism"),
    "parallelism-negative": (("apply", "--auto-approve", "--parallelism", "-1"), "--parallelism"),
    "parallelism-abc": (("apply", "--auto-approve", "--parallelism", "abc"), "--parallelism"),
    "destroy-parallelism-0": (("destroy", "--auto-approve", "--parallelism", "0"), "--parallelism"),
    "plan-format": (("plan", "--format", "bad"), "--format"),
    "show-format": (("show", "--format", "bad"), "--format"),
    "output-format": (("output", "--format", "yaml"), "--format"),
    "plan-target-malformed": (("plan", "--target", "bogus"), "--target bogus"),
    "plan-target-unknown": (("plan", "--target", "project.nope"), "--target project.nope"),
    "plan-exclude-malformed": (("plan", "--exclude", "model."), "--exclude model."),
    "plan-exclude-unknown": (("plan", "--exclude", "dataset.nope"), "--exclude dataset.nope"),
    "plan-allow-destroy-malformed": (("plan", "--allow-destroy", "bogus"), "--allow-destroy bogus"),
    "plan-lock-timeout-negative": (("plan", "--lock-timeout", "-1"), "--lock-timeout"),
    "plan-lock-timeout-abc": (("plan", "--lock-timeout", "abc"), "--lock-timeout"),
    "plan-state-backend": (("plan", "--state-backend", "s3"), "--state-backend"),
    "plan-out-manifest": (("plan", "--out", "bria.yaml"), "--out bria.yaml"),
    "plan-out-state": (("plan", "--out", STATE_FILE), f"--out {STATE_FILE}"),
    "plan-out-image": (("plan", "--out", "images/luna/luna_000.png"), "--out images/luna/luna_000.png"),
    "plan-out-folder": (("plan", "--out", "images"), "--out"),
    "import-addr-malformed": (("import", "bogus", "1"), "not a resource address"),
    "import-addr-undeclared": (("import", "project.nope", "1"), "project.nope"),
    "import-id-not-integer": (("import", "model.luna_max", "abc"), "REMOTE_ID"),
    "import-id-float": (("import", "model.luna_max", "1.5"), "REMOTE_ID"),
    "import-missing-id": (("import", "model.luna_max"), "REMOTE_ID"),
    "state-rm-malformed": (("state", "rm", "bogus"), "not a resource address"),
    "state-rm-unknown": (("state", "rm", "project.nope"), "not in the state: project.nope"),
    "state-rm-nothing": (("state", "rm"), "ADDR"),
    "state-list-lock-timeout": (("state", "list", "--lock-timeout", "-1"), "--lock-timeout"),
    "state-push-missing": (("state", "push", "nope.json"), "nope.json"),
    "state-push-garbage": (("state", "push", "bria.yaml"), "bria.yaml"),
    "state-unknown-subcommand": (("state", "frob", "a", "b"), "No such command"),
    "force-unlock-wrong-id": (("force-unlock", "wrong-id"), "not locked"),
    "show-malformed": (("show", "bogus"), "not a resource address"),
    "show-unknown": (("show", "project.nope"), "project.nope is not in the state"),
    "unknown-command": (("frobnicate",), "No such command"),
    "emulator-port": (("emulator", "serve", "--port", "abc"), "--port"),
    "emulator-fault-rate": (("emulator", "serve", "--fault-rate", "2"), "--fault-rate"),
}


@pytest.mark.parametrize("name", list(BAD_FLAGS))
def test_bad_flag_exits_1_and_does_nothing(applied_workspace: Workspace, name: str) -> None:
    args, says = BAD_FLAGS[name]
    ws = applied_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.invoke(*args), before, says=says)


@pytest.mark.parametrize("name", ["unknown-option-detailed", "parallelism-abc", "plan-target-unknown",
                                  "plan-out-state", "import-id-not-integer", "state-rm-unknown"])
def test_bad_flag_with_the_real_console_script(applied_workspace: Workspace, name: str) -> None:
    args, says = BAD_FLAGS[name]
    ws = applied_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.run(*args, timeout=60), before, says=says)


def test_apply_with_a_bad_target_changes_nothing(applied_workspace: Workspace) -> None:
    ws = applied_workspace
    before = ws.snapshot()
    for flag, value in (("--target", "bogus"), ("--exclude", "project.nope")):
        done = ws.invoke("apply", "--auto-approve", flag, value)
        assert_refused(ws, done, before, says=f"{flag} {value}", requests_allowed=True)


@pytest.mark.parametrize("args, says", [
    (("apply", "--auto-approve", "--target", "bogus"), "--target bogus"),
    (("apply", "--auto-approve", "--target", "project.nope"), "--target project.nope"),
    (("apply", "--auto-approve", "--exclude", "project.nope"), "--exclude project.nope"),
    (("apply", "--auto-approve", "--lock-timeout", "-5"), "--lock-timeout"),
    (("destroy", "--auto-approve", "--lock-timeout", "-5"), "--lock-timeout"),
    (("apply", "--auto-approve", "--allow-destroy", "bogus"), "--allow-destroy bogus"),
    (("destroy", "--auto-approve", "--allow-destroy", "bogus"), "--allow-destroy bogus"),
])
def test_apply_and_destroy_check_their_flags_before_any_call(applied_workspace: Workspace, args: tuple[str, ...],
                                                             says: str) -> None:
    ws = applied_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.invoke(*args), before, says=says)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (a folder nobody can create files in)")
def test_plan_out_that_cannot_be_written_is_a_message_not_a_traceback(applied_workspace: Workspace) -> None:
    ws = applied_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.invoke("plan", "--out", "/proc/bria-plan.json"), before, says="cannot write the plan",
                   requests_allowed=True)


def test_plan_allow_destroy_of_an_unknown_address_only_warns(applied_workspace: Workspace) -> None:
    ws = applied_workspace
    done = ws.run("plan", "--allow-destroy", "model.gone", "--detailed-exitcode")
    assert done.returncode == 0, done.stderr
    assert "Warning: --allow-destroy model.gone: no such resource" in done.stderr


def test_a_mistyped_target_names_the_closest_address_of_the_same_kind(applied_workspace: Workspace) -> None:
    done = applied_workspace.invoke("plan", "--target", "project.lunaa")
    assert done.returncode == 1
    assert "--target project.lunaa: no such resource in the manifest or the state; did you mean project.luna?" \
        in done.stderr


@pytest.mark.parametrize("remote_id", ["99999999999999999999"])
def test_import_of_an_impossible_remote_id_exits_1_and_writes_no_state(fresh_workspace: Workspace,
                                                                       remote_id: str) -> None:
    """A positive id only the API can judge is asked for (0 and below: see the next test)."""
    ws = fresh_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.invoke("import", "project.luna", "--", remote_id), before,
                   says=f"/tailored-gen/projects/{remote_id}", requests_allowed=True)
    assert not ws.state_file.exists()


@pytest.mark.parametrize("remote_id", ["0", "-5"])
def test_import_refuses_a_non_positive_remote_id_before_any_call(fresh_workspace: Workspace, remote_id: str) -> None:
    ws = fresh_workspace
    before = ws.snapshot()
    assert_refused(ws, ws.invoke("import", "project.luna", "--", remote_id), before, says="REMOTE_ID")


# --- saved plans ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, says", [
    ("garbage", "not a readable bria plan"),
    ("json-array", "not a readable bria plan"),
    ("future-format", "format_version"),
    ("no-format", "format_version"),
    ("state-file", "not a readable bria plan"),
    ("missing", "nope.json"),
    ("folder", "images"),
])
def test_unusable_saved_plan_exits_1(applied_workspace: Workspace, kind: str, says: str) -> None:
    ws = applied_workspace
    path = ws.root / "next.json"
    plan = json.loads(path.read_text())
    if kind == "garbage":
        path.write_text("{{{ not json")
    elif kind == "json-array":
        path.write_text("[1, 2]")
    elif kind in ("future-format", "no-format"):
        plan["format_version"] = 99
        if kind == "no-format":
            del plan["format_version"]
        path.write_text(json.dumps(plan))
    plan_arg = {"state-file": STATE_FILE, "missing": "nope.json", "folder": "images"}.get(kind, "next.json")
    before = ws.snapshot()
    assert_refused(ws, ws.invoke("apply", plan_arg), before, says=says)


def test_control_the_untouched_saved_plan_applies(applied_workspace: Workspace) -> None:
    """The cases above fail because of what they broke, not because the saved plan never works."""
    done = applied_workspace.invoke("apply", "next.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_saved_plan_of_another_manifest_is_stale(applied_workspace: Workspace, tmp_path: Path) -> None:
    ws = applied_workspace
    other = Workspace(tmp_path / "other", ws.base_url)
    shutil.copytree(ws.root, other.root)
    other.manifest.write_text(other.manifest.read_text().replace("Luna max", "Luna max two"))
    assert other.run("plan", "--out", str(ws.root / "other.json")).returncode == 0
    ws.reset_stats()
    before = ws.snapshot()
    assert_refused(ws, ws.run("apply", "other.json"), before, says="stale", code=4, requests_allowed=True)


# --- corrupt and future state ----------------------------------------------------------------

STATE_COMMANDS = [("plan",), ("plan", "--no-refresh"), ("apply", "--auto-approve"), ("destroy", "--auto-approve"),
                  ("import", "project.luna", "1"), ("show",), ("output",), ("state", "list"), ("state", "pull"),
                  ("state", "rm", "project.luna")]


@pytest.mark.parametrize("damage", ["truncated", "future_format", "wrong_type"])
def test_damaged_state_is_named_with_its_backup_and_nothing_is_called(applied_workspace: Workspace,
                                                                      damage: str) -> None:
    ws = applied_workspace
    text = ws.state_file.read_text()
    if damage == "truncated":
        ws.state_file.write_text(text[: len(text) // 2])
    else:
        data = json.loads(text)
        if damage == "future_format":
            data["format_version"] = 4
        else:
            data["resources"]["project.luna"]["remote_id"] = "one"
        ws.state_file.write_text(json.dumps(data))
    before = ws.snapshot()
    for args in STATE_COMMANDS:
        done = ws.invoke(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert str(ws.state_file) in done.stderr and f"{ws.state_file}.backup" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert ws.snapshot() == before
    assert ws.requests() == 0, ws.stats()["by_endpoint"]


def test_state_from_a_newer_bria_says_upgrade(applied_workspace: Workspace) -> None:
    """Not damage: restoring the backup would roll the state back, so the advice is to upgrade."""
    ws = applied_workspace
    data = json.loads(ws.state_file.read_text())
    data["format_version"] = 4
    ws.state_file.write_text(json.dumps(data))
    before = ws.snapshot()
    done = ws.run("plan")
    assert done.returncode == 1
    assert "newer" in done.stderr and "copy it over" not in done.stderr
    assert "format_version 4" in done.stderr and "Upgrade bria" in done.stderr, done.stderr
    assert ws.snapshot() == before
    assert ws.requests() == 0


# --- an image that changed between plan and apply -----------------------------------------------


def _same_size_different_png(old: bytes) -> bytes:
    for seed in range(100, 400):
        new = make_png(256, 256, seed)
        if len(new) <= len(old) and new != old[: len(new)]:
            return new + b"\0" * (len(old) - len(new))    # bytes after IEND are ignored by decoders
    raise AssertionError("no smaller PNG found")


def test_image_changed_after_plan_makes_the_saved_plan_stale(fresh_workspace: Workspace) -> None:
    ws = fresh_workspace
    assert ws.run("plan", "--out", "next.json").returncode == 0
    image = ws.root / "images/luna/luna_001.png"
    image.write_bytes(make_png(300, 300, 77))
    before = ws.snapshot()
    ws.reset_stats()
    assert_refused(ws, ws.run("apply", "next.json"), before, says="stale", code=4, requests_allowed=True)


def test_a_same_size_same_mtime_image_change_makes_a_saved_plan_stale(fresh_workspace: Workspace) -> None:
    """The hash cache keys on inode, device and ctime too, so this change is seen at once."""
    ws = fresh_workspace
    assert ws.run("plan", "--out", "next.json").returncode == 0
    image = ws.root / "images/luna/luna_001.png"
    stat = image.stat()
    image.write_bytes(_same_size_different_png(image.read_bytes()))
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    done = ws.run("apply", "next.json")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the manifest (or its images) changed since the plan was made" in done.stderr
    assert ws.mutations() == {}


def test_image_changed_behind_the_hash_cache_is_not_uploaded(fresh_workspace: Workspace) -> None:
    """Same size and mtime, different bytes, and an image cache that vouches for the new file (as
    one on a filesystem with unreliable ctimes might), so the plan is not stale; the upload
    itself must notice and fail that change, uploading nothing else in its place."""
    ws = fresh_workspace
    ws.token = "bria-audit-token-own-organisation"    # this test creates objects: keep them apart
    assert ws.run("plan", "--out", "next.json").returncode == 0
    image = ws.root / "images/luna/luna_001.png"
    stat = image.stat()
    image.write_bytes(_same_size_different_png(image.read_bytes()))
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    cache_file = ws.root / ".bria" / "image-cache.json"
    cache = json.loads(cache_file.read_text())
    cache["entries"][str(image)].update(file_identity(image.stat()))
    cache_file.write_text(json.dumps(cache))
    done = ws.run("apply", "next.json")
    assert done.returncode == 5, done.stdout + done.stderr
    assert "images/luna/luna_001.png" in done.stdout and "changed since plan" in done.stdout
    state = json.loads(ws.state_file.read_text())
    version = state["resources"]["dataset.luna_v1"]["versions"][-1]
    names = sorted(image["image_name"] for image in version["images"].values())
    assert len(names) == 2 and not any(name.endswith("luna_001.png") for name in names), names
    remote = httpx.get(f"{ws.base_url}/tailored-gen/datasets/{version['remote_id']}/images",
                       headers={"api_token": ws.token}, timeout=10).json()
    assert sorted(i["image_name"] for i in remote) == names
    assert "model.luna_max" not in state["resources"]
