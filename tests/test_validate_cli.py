"""`bria validate` over the bad-manifest corpus and the examples, in-process and as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures_manifest import EXAMPLES, bad_case_names, read_expectations, write_image

from reconciler.cli import main

CASES = bad_case_names()


def bria_command() -> list[str]:
    """The installed `bria` console script next to this interpreter (or on PATH)."""
    script = Path(sys.executable).parent / "bria"
    found = str(script) if script.exists() else shutil.which("bria")
    assert found, "the bria console script is not installed (pip install -e .)"
    return [found]


def assert_reports(output: str, manifest: str, case_dir: Path) -> None:
    lines = output.splitlines()
    for line_no, field, message in read_expectations(case_dir):
        matching = [line for line in lines if line.startswith(f"{manifest}:{line_no}:")
                    and " error: " in line and message in line and (field is None or f" {field}: " in line)]
        assert matching, (f"expected an error at {manifest}:{line_no} for {field} with "
                          f"{message!r}; got:\n{output}")
    assert lines[-1].startswith(f"{manifest}: invalid — ")


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_bad_manifest_is_rejected_with_position_and_field(case: str, bad_case) -> None:
    case_dir = bad_case(case)
    manifest = str(case_dir / "bria.yaml")
    result = CliRunner().invoke(main, ["validate", "-f", manifest])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""          # diagnostics go to stderr, nothing claims success
    assert_reports(result.stderr, manifest, case_dir)


@pytest.mark.parametrize("case", ["malformed_yaml", "many_schema_errors", "path_escape_symlink",
                                  "too_many_images", "text_as_png"])
def test_bad_manifest_with_the_real_console_script(case: str, bad_case) -> None:
    case_dir = bad_case(case)
    env = {k: v for k, v in os.environ.items() if k != "BRIA_API_TOKEN"}
    done = subprocess.run(bria_command() + ["validate"], cwd=case_dir, capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert_reports(done.stderr, "bria.yaml", case_dir)     # the name as the user gave it (default)


@pytest.mark.parametrize("example, summary", [
    ("luna", "valid — 1 project, 1 dataset (18 images), 1 model"),
    ("icons", "valid — 1 project, 1 dataset (13 images), 2 models"),
    ("fibo", "valid — 1 project, 1 dataset (8 images), 1 model"),
])
def test_examples_validate(example: str, summary: str, tmp_path: Path) -> None:
    # A copy, so that the image cache is written in tmp_path rather than in the repository.
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns(".bria", "state"))
    result = CliRunner().invoke(main, ["validate", "-f", str(folder / "bria.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{folder / 'bria.yaml'}: {summary}\n"
    assert result.stderr == ""
    assert (folder / ".bria" / "image-cache.json").exists()
    done = subprocess.run(bria_command() + ["validate"], cwd=folder, capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"bria.yaml: {summary}\n", "")


def test_warnings_are_printed_but_do_not_fail(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 300, 300)
    (tmp_path / "bria.yaml").write_text("""\
version: 1
projects:
  p: {name: P, ip_type: other, ip_medium: photography}
datasets:
  d: {project: p, name: D, images: [{file: a.png}]}
models:
  m:
    dataset: d
    name: M
    training_mode: expert
    training_parameters: {lr_scheduler: linear, lr_warmup_steps: 50}
""")
    result = CliRunner().invoke(main, ["validate", "-f", str(tmp_path / "bria.yaml")])
    assert result.exit_code == 0, result.output
    assert "warning: $.models.m.training_parameters.lr_warmup_steps" in result.stderr
    assert result.stdout.endswith("valid — 1 project, 1 dataset (1 image), 1 model\n")


def test_missing_manifest_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert "cannot read manifest bria.yaml: no such file" in result.stderr
    assert result.stderr.splitlines()[-1] == "bria.yaml: invalid — 1 error"


def test_token_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIA_API_TOKEN", "sekret-token-123")
    (tmp_path / "bria.yaml").write_text("version: 1\napi: {endpoint: sekret-token-123}\n")
    result = CliRunner().invoke(main, ["validate", "-f", str(tmp_path / "bria.yaml")])
    assert result.exit_code == 1
    # The manifest's own (bad) value is echoed, as it should be; the env var is never read.
    assert result.stderr.count("sekret-token-123") == 1
