"""Linked thumbnails of added and removed images for the Markdown plan (pull requests).

`image_links` maps a content sha256 (or `name:<image name>`) to
`{"label": path, "href": page of the file, "src": the file's raw URL}`; the CLI makes them
inside GitHub Actions, pointing at the pull request's head commit (added images) and base
commit (removed ones). Images without a link are named in text. GitHub scales the `src`
down to `width`; at most `MAX_PER_LIST` thumbnails per list keep the comment small.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping

from reconciler.render import symbols
from reconciler.stepargs import DeleteImageArgs, UploadImageArgs

MAX_PER_LIST = 24
WIDTH = 64


def sections(plan: Mapping[str, Any], links: Mapping[str, Mapping[str, str]]) -> list[str]:
    out = []
    for change in symbols.visible_changes(plan):
        args = [step.args for step in symbols.typed_steps(change)]
        added = [_key(a.sha256, a.rel_path or a.image_name, a.image_name) for a in args
                 if isinstance(a, UploadImageArgs)]
        removed = [_key(a.sha256, a.image_name, a.image_name) for a in args if isinstance(a, DeleteImageArgs)]
        if not added and not removed:
            continue
        lines = [f"#### Images of `{escape(str(change.get('address')))}`"]
        for title, keys in (("added", added), ("removed", removed)):
            if keys:
                lines.append(f"**{title} ({len(keys)})**<br>" + _thumbs(keys, links))
        out.append("\n\n".join(lines))
    return out


def _key(sha256: str | None, name: str, image_name: str) -> tuple[str, str]:
    return (sha256 if sha256 else f"name:{image_name}", name or "?")


def _thumbs(keys: list[tuple[str, str]], links: Mapping[str, Mapping[str, str]]) -> str:
    parts = []
    for key, name in keys[:MAX_PER_LIST]:
        link = links.get(key)
        if link and link.get("href") and link.get("src"):
            label = escape(link.get("label") or name, quote=True)
            parts.append(f'<a href="{escape(link["href"], quote=True)}"><img src="{escape(link["src"], quote=True)}" '
                         f'alt="{label}" title="{label}" width="{WIDTH}"></a>')
        else:
            parts.append(f"<code>{escape(name)}</code>")
    if len(keys) > MAX_PER_LIST:
        parts.append(f"… and {len(keys) - MAX_PER_LIST} more")
    return " ".join(parts)
