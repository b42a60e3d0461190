"""`bria plan --format html`: one self-contained page with thumbnails (uploads, removals —
found in git when the file is gone), captions old → new, the prefix change, models trained
and kept; and, in headless Chromium, every thumbnail of the 200-image benchmark change
loads. CI installs Chromium (.ci/run sets BRIA_REQUIRE_CHROMIUM=1: missing it fails there)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures_apply import luna_images, luna_yaml, run_bria, write_case
from fixtures_emulator import make_png

EMBEDDED = "version: 1\napi:\n  endpoint: emulator\n  emulator:\n    training_seconds: 0\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def applied_case(root: Path, images: int = 3) -> Path:
    write_case(root, luna_yaml().replace("version: 1\n", EMBEDDED, 1), luna_images(images))
    done = run_bria("apply", "--auto-approve", "--wait", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_html_plan_shows_uploads_removals_captions_and_models(tmp_path):
    root = applied_case(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "images", "bria.yaml")
    git(root, "commit", "-qm", "images")
    (root / "images/luna/luna_000.png").unlink()                       # removed: only in git now
    (root / "images/luna/added.png").write_bytes(make_png(256, 256, 500))
    (root / "images/luna/luna_001.txt").write_text("Luna, now with a manual caption")
    result = run_bria("plan", "--format", "html", "--out", "plan.html", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Plan: 2 to add, 0 to change, 0 to destroy; 1 image to upload;")
    page = (root / "plan.html").read_text()
    assert "Images to upload (1)" in page and "Images to remove (1)" in page and "Captions (1)" in page
    assert page.count("src='data:image/jpeg;base64,") == 3        # upload, removal (from git), caption row
    assert "images/luna/luna_000.png" in page                       # the removed file, named from git
    assert "Luna, now with a manual caption" in page and "class=old" in page
    assert "model #" in page and "is KEPT" in page and "trains on dataset luna_v1" in page
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)          # nothing from the network
    again = run_bria("plan", "--format", "html", "--out", "plan.html", cwd=root)
    assert again.returncode == 0                                    # overwrites its own page
    (root / "notes.txt").write_text("mine")
    refused = run_bria("plan", "--format", "html", "--out", "notes.txt", cwd=root)
    assert refused.returncode == 1 and (root / "notes.txt").read_text() == "mine"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("BRIA_REQUIRE_CHROMIUM") == "1":
        pytest.fail("Chromium is required here (BRIA_REQUIRE_CHROMIUM=1) but `chromium` is not on PATH")
    pytest.skip("headless Chromium not installed (apt-get install chromium; .ci/run installs it)")


def loaded_in_chromium(page: Path, tmp_path: Path) -> tuple[int, int]:
    """(thumbnails loaded, thumbnails on the page) as the page's own script counted them."""
    profile = tmp_path / "chromium-profile"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60)
    body = re.search(r"<body[^>]*>", done.stdout)
    assert body, done.stderr[-2000:]
    loaded = re.search(r'data-thumbnails-loaded="(\d+)"', body.group(0))
    total = re.search(r'data-thumbnails-total="(\d+)"', body.group(0))
    assert loaded and total, body.group(0)
    return int(loaded.group(1)), int(total.group(1))


@pytest.mark.slow
def test_the_200_image_benchmark_plan_renders_in_chromium_with_every_thumbnail(tmp_path):
    from benchmarks.inputs import make_images, write_manifest

    make_images(tmp_path / "images", 200, size=1024, seed=ord("a"))
    manifest = write_manifest(tmp_path / "bria.yaml", datasets={"bench": tmp_path / "images"}, endpoint="emulator")
    result = run_bria("plan", "-f", str(manifest), "--format", "html", "--out", "plan.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = tmp_path / "plan.html"
    size = page.stat().st_size
    print(f"HTML plan of the 200-image benchmark dataset: {size:,} bytes")
    assert size < 2_000_000
    assert loaded_in_chromium(page, tmp_path) == (200, 200)


def test_a_broken_thumbnail_is_counted_as_not_loaded(tmp_path):
    """Positive control for the browser check: a corrupt data URI does not count as loaded."""
    from reconciler.render import html

    plan = {"summary": {"add": 1}, "changes": [{"address": "dataset.d", "actions": ["create"], "steps": [
        {"op": "upload_image", "args": {"sha256": "a" * 64, "rel_path": "a.png"}},
        {"op": "upload_image", "args": {"sha256": "b" * 64, "rel_path": "b.png"}}]}]}
    good = "data:image/png;base64," + __import__("base64").b64encode(make_png(8, 8)).decode()
    page = tmp_path / "p.html"
    page.write_text(html.render_plan(plan, images={"a" * 64: {"label": "a.png", "src": good},
                                                   "b" * 64: {"label": "b.png", "src": "data:image/png;base64,AAAA"}}))
    assert loaded_in_chromium(page, tmp_path) == (1, 2)
