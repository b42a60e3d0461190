"""`bria plan --format html [--out PAGE]`: the plan as one self-contained page.

With `--format html`, `--out` names the page (a page cannot be applied, so no JSON plan is
saved; `--out` may overwrite an earlier page bria wrote, nothing else). Without `--out`
the page goes to stdout.

This module gathers what the plan itself does not hold: thumbnails (made here, with
Pillow, at a bounded size, inlined as data URIs), the captions the state recorded (the
"now" side of a caption change), and removed images, found on disk among the manifest's
images or, when the file is gone, in git at HEAD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from reconciler.model import ImageSpec, Manifest, Op
from reconciler.state.model import State

_IMAGE_OPS = {Op.UPLOAD_IMAGE.value, Op.DELETE_IMAGE.value, Op.SET_CAPTION.value, Op.REGENERATE_CAPTION.value}


def plan_images(manifest: Manifest, state: State, plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`images` for render.html: every image a visible dataset change touches."""
    from reconciler import thumbnails

    by_sha: dict[str, ImageSpec] = {}
    for dataset in manifest.datasets.values():
        for image in dataset.images:
            by_sha.setdefault(image.sha256, image)
    recorded: dict[str, str | None] = {}
    for record in state.datasets.values():
        if record.current:
            recorded.update({sha: r.caption for sha, r in record.current.images.items()})
    git_tree = None
    out: dict[str, dict[str, Any]] = {}
    for change in plan.get("changes") or ():
        for step in change.get("steps") or ():
            if step.get("op") not in _IMAGE_OPS:
                continue
            args = step.get("args") or {}
            sha, name = args.get("sha256"), args.get("image_name")
            key = sha or f"name:{name}"
            if key in out:
                continue
            spec = by_sha.get(sha) if sha else None
            if spec is not None:
                out[key] = {"label": spec.rel_path, "src": thumbnails.data_uri(spec.path),
                            "caption_before": recorded.get(sha)}
                continue
            if git_tree is None:
                git_tree = thumbnails.GitTree(manifest.root, "HEAD")
            found = git_tree.find(str(name or ""))
            out[key] = {"label": found[0] if found else str(name or "?"),
                        "src": thumbnails.data_uri_of_bytes(found[1]) if found else None,
                        "caption_before": recorded.get(sha) if sha else None}
    return out


def is_html_page(path: Path) -> bool:
    """An earlier page bria wrote (safe to overwrite), or an empty file."""
    from reconciler.render.html import GENERATOR

    try:
        if path.stat().st_size == 0:
            return True
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return GENERATOR in handle.read(400)
    except OSError:
        return False


def render_html(manifest: Manifest, state: State, plan: Mapping[str, Any]) -> str:
    from reconciler.render import html

    return html.render_plan(plan, images=plan_images(manifest, state, plan),
                            title=f"bria plan — {manifest.path.name}")


def write_page(text: str, out: Path) -> None:
    import os
    import tempfile

    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)          # a page to share, not a secret (mkstemp makes 0600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
