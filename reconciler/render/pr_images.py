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

from reconciler.model import Op
from reconciler.render import symbols

MAX_PER_LIST = 24
WIDTH = 64


def sections(plan: Mapping[str, Any], links: Mapping[str, Mapping[str, str]]) -> list[str]:
    out = []
    for change in symbols.visible_changes(plan):
        steps = [(s.get("op"), s.get("args") or {}) for s in change.get("steps") or ()]
        added = [_key(a, "rel_path") for op, a in steps if op == Op.UPLOAD_IMAGE.value]
        removed = [_key(a, "image_name") for op, a in steps if op == Op.DELETE_IMAGE.value]
        if not added and not removed:
            continue
        lines = [f"#### Images of `{escape(str(change.get('address')))}`"]
        for title, keys in (("added", added), ("removed", removed)):
            if keys:
                lines.append(f"**{title} ({len(keys)})**<br>" + _thumbs(keys, links))
        out.append("\n\n".join(lines))
    return out


def _key(args: Mapping[str, Any], name_field: str) -> tuple[str, str]:
    sha, name = args.get("sha256"), str(args.get(name_field) or args.get("image_name") or "?")
    return (str(sha) if sha else f"name:{args.get('image_name')}", name)


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
