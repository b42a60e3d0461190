"""Inside GitHub Actions the Markdown plan shows added and removed images as thumbnails
linked to the files at the pull request's head (added) and base (removed) commits; outside
it, the Markdown is byte-identical to what it was."""

from __future__ import annotations

import json
import subprocess

from fixtures_emulator import make_png
from test_plan_html import applied_case, git


def rev(root, name="HEAD") -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_markdown_links_added_images_at_head_and_removed_at_base(tmp_path):
    from fixtures_apply import run_bria

    root = applied_case(tmp_path / "repo")
    git(root, "init", "-q")
    git(root, "add", "images", "bria.yaml")
    git(root, "commit", "-qm", "base")
    base = rev(root)
    (root / "images/luna/luna_000.png").unlink()
    (root / "images/luna/new one.png").write_bytes(make_png(256, 256, 900))
    git(root, "add", "-A", "images")
    git(root, "commit", "-qm", "head")
    head = rev(root)
    outside = run_bria("plan", "--format", "markdown", cwd=root, env={"GITHUB_ACTIONS": ""})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": head}, "base": {"sha": base}}}))
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "acme/art",
               "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": "f" * 40}
    inside = run_bria("plan", "--format", "markdown", cwd=root, env=actions)
    assert outside.returncode == inside.returncode == 0, outside.stderr + inside.stderr
    added = f"https://github.example/acme/art/blob/{head}/images/luna/new%20one.png"
    removed = f"https://github.example/acme/art/blob/{base}/images/luna/luna_000.png"
    assert f'<a href="{added}"><img src="{added}?raw=true"' in inside.stdout
    assert f'<a href="{removed}"><img src="{removed}?raw=true"' in inside.stdout
    assert "**added (1)**" in inside.stdout and "**removed (1)**" in inside.stdout
    assert "github.example" not in outside.stdout and "<img" not in outside.stdout
    # Outside Actions nothing changes: the same text as the renderer without links.
    assert inside.stdout.replace(inside.stdout[inside.stdout.index("#### Images"):
                                              inside.stdout.index("<details>")], "") == outside.stdout
