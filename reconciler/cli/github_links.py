"""Links for images in a Markdown plan made inside GitHub Actions.

Detected from the standard variables: GITHUB_ACTIONS=true, GITHUB_SERVER_URL,
GITHUB_REPOSITORY, and the commits from the event payload (GITHUB_EVENT_PATH:
`pull_request.head.sha` and `pull_request.base.sha`; GITHUB_SHA when there is no pull
request). Added images link to their file at the head commit; removed images to theirs at
the base commit, found by content in git (the checkout needs that commit: use
`fetch-depth: 0`, or removed images are named without a picture). Outside Actions there
are no links and the Markdown is unchanged. `BRIA_PR_THUMBNAILS=0` turns them off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from reconciler.model import Manifest
from reconciler.render.symbols import typed_steps
from reconciler.stepargs import DeleteImageArgs, UploadImageArgs


def pr_image_links(manifest: Manifest, plan: Mapping[str, Any],
                   environ: Mapping[str, str] = os.environ) -> dict[str, dict[str, str]] | None:
    if environ.get("GITHUB_ACTIONS") != "true" or not environ.get("GITHUB_REPOSITORY"):
        return None
    if environ.get("BRIA_PR_THUMBNAILS") == "0":
        return None
    from reconciler.thumbnails import GitTree, git_toplevel

    server = (environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo = environ["GITHUB_REPOSITORY"]
    head, base = _commits(environ)
    top = git_toplevel(manifest.root) or Path(environ.get("GITHUB_WORKSPACE") or manifest.root)
    base_tree = None
    links: dict[str, dict[str, str]] = {}

    def link(sha: str, path: str) -> dict[str, str]:
        href = f"{server}/{repo}/blob/{sha}/{quote(path)}"
        return {"label": path, "href": href, "src": href + "?raw=true"}

    for change in plan.get("changes") or ():
        for step in typed_steps(change):
            args = step.args
            if isinstance(args, UploadImageArgs) and head and args.rel_path:
                try:
                    path = (manifest.root / args.rel_path).resolve().relative_to(top.resolve()).as_posix()
                except ValueError:
                    continue
                links[args.sha256] = link(head, path)
            elif isinstance(args, DeleteImageArgs) and base and args.image_name:
                base_tree = base_tree or GitTree(top, base)
                found = base_tree.find(args.image_name)
                if found:
                    links[args.sha256 or f"name:{args.image_name}"] = link(base, found[0])
    return links


def _commits(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(head, base) commits: the pull request's, else GITHUB_SHA and no base."""
    event: dict[str, Any] = {}
    try:
        event = json.loads(Path(environ.get("GITHUB_EVENT_PATH", "")).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if isinstance(pull, dict):
        head = (pull.get("head") or {}).get("sha")
        base = (pull.get("base") or {}).get("sha")
        return (str(head) if head else environ.get("GITHUB_SHA")), (str(base) if base else None)
    return environ.get("GITHUB_SHA"), None
