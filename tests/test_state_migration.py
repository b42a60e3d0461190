"""A v1 state written by main before state format 2 (tests/v1_state_from_main, see its
README) loads, migrates without loss, and plans no changes against the emulator data that
run left beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fixtures_apply import run_bria
from reconciler.state.local import LocalStateStore

FIXTURE = Path(__file__).parent / "v1_state_from_main"


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "v1"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("state-v1.json", "emulator-v1.sqlite"))
    (root / "state").mkdir()
    shutil.copyfile(FIXTURE / "state-v1.json", root / "state" / "bria.json")
    shutil.copyfile(FIXTURE / "emulator-v1.sqlite", root / "state" / "bria.emulator.sqlite")
    return root


def _is_within(old, new, path="") -> list[str]:
    """Where `old` is not kept in `new` (values equal, mappings as subsets)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for key, value in old.items()
                for p in ([f"{path}/{key} missing"] if key not in new else _is_within(value, new[key], f"{path}/{key}"))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new)) for p in _is_within(a, b, f"{path}/{i}")]
    return [] if old == new else [f"{path}: {old!r} became {new!r}"]


def test_a_v1_state_loads_and_migrates_without_loss(tmp_path):
    root = _workspace(tmp_path)
    original = json.loads((root / "state" / "bria.json").read_text())
    assert original["format_version"] == 1
    state = LocalStateStore(root / "state" / "bria.json").read()
    migrated = state.to_dict()
    assert migrated["format_version"] == 2
    lost = _is_within({k: v for k, v in original.items() if k != "format_version"}, migrated)
    assert lost == []
    dataset = migrated["resources"]["dataset.luna_v1"]
    assert dataset["pinned_schema"] is None and dataset["versions"][0]["visual_schema"] is None


def test_a_v1_state_plans_no_changes_then_is_written_as_v2(tmp_path):
    root = _workspace(tmp_path)
    plan = run_bria("plan", "--detailed-exitcode", cwd=root)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout
    done = run_bria("state", "rm", "model.luna_max", cwd=root)   # any write stores the current format
    assert done.returncode == 0, done.stderr
    written = json.loads((root / "state" / "bria.json").read_text())
    assert written["format_version"] == 2
    assert written["resources"]["dataset.luna_v1"]["versions"][0]["caption_prefix"] == "A drawing of Luna,"
