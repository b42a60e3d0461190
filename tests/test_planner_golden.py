"""Golden plans, pyinfra style: data in, expected plan out.

Each folder tests/golden/<case>/ holds
  manifest.yaml        the desired state (images come from tests/golden/_images/, copied in)
  state.json           optional: the state (absent = empty state)
  live.json            optional: the LiveView as JSON, objects keyed by id (absent = --no-refresh)
  options.json         optional: {"targets": [...], "excludes": [...], "allow_destroy": [...] | "all"}
  expected_plan.json   the plan (JSON view)
  expected_plan.txt    the plan (human view, no colour)

Image hashes are written as {{sha:a.png}} / {{sha16:a.png}} tokens so the files stay readable.
`BRIA_UPDATE_GOLDEN=1 pytest tests/test_planner_golden.py` rewrites the expected files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from fixtures_plan import live_from_json
from reconciler.manifest import load_manifest
from reconciler.planner import plan
from reconciler.render import human, json as json_view
from reconciler.state.model import State

GOLDEN = Path(__file__).parent / "golden"
IMAGES = GOLDEN / "_images"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith("_"))
UPDATE = os.environ.get("BRIA_UPDATE_GOLDEN") == "1"
EMPTY_LINEAGE = "00000000-0000-4000-8000-000000000000"


def _image_shas() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(IMAGES.iterdir())}


def _detokenize(text: str, shas: dict[str, str]) -> str:
    for name, sha in shas.items():
        text = text.replace("{{sha:%s}}" % name, sha).replace("{{sha16:%s}}" % name, sha[:16])
    return text


def _tokenize(text: str, shas: dict[str, str]) -> str:
    for name, sha in shas.items():
        text = text.replace(sha, "{{sha:%s}}" % name).replace(sha[:16], "{{sha16:%s}}" % name)
    return text


def _read_json(path: Path, shas: dict[str, str]):
    return json.loads(_detokenize(path.read_text(encoding="utf-8"), shas)) if path.exists() else None


def _check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with BRIA_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs (BRIA_UPDATE_GOLDEN=1 to accept)"


def golden_plan(case: str, tmp_path: Path) -> tuple[dict, dict[str, str]]:
    """Plan the case from a copy of its folder (with the shared images) and return plan.to_dict()."""
    source, work = GOLDEN / case, tmp_path / case
    shutil.copytree(source, work)
    shutil.copytree(IMAGES, work / "images", dirs_exist_ok=True)
    shas = _image_shas()
    manifest, diagnostics = load_manifest(work / "manifest.yaml")
    assert manifest is not None, [str(d) for d in diagnostics]
    state_data = _read_json(work / "state.json", shas)
    state = State.from_dict(state_data) if state_data else State.empty(EMPTY_LINEAGE)
    live_data = _read_json(work / "live.json", shas)
    options = _read_json(work / "options.json", shas) or {}
    result = plan(manifest, state, live_from_json(live_data) if live_data is not None else None,
                  targets=options.get("targets", ()), excludes=options.get("excludes", ()),
                  allow_destroy=options.get("allow_destroy", ()))
    plan_dict = result.to_dict()
    plan_dict["manifest_path"] = "manifest.yaml"     # the copy's absolute path is not stable
    return plan_dict, shas


@pytest.mark.parametrize("case", CASES)
def test_golden_plan(case, tmp_path):
    plan_dict, shas = golden_plan(case, tmp_path)
    assert json_view.validate_plan(plan_dict) == []
    _check(GOLDEN / case / "expected_plan.json", _tokenize(json_view.render_plan(plan_dict), shas))
    _check(GOLDEN / case / "expected_plan.txt", _tokenize(human.render_plan(plan_dict, color=False, width=100), shas))


def test_every_golden_case_has_its_inputs():
    assert len(CASES) >= 15
    for case in CASES:
        assert (GOLDEN / case / "manifest.yaml").exists(), case
