"""Views of a plan: human (terminal), JSON (the source of truth), Markdown (PR comments) and
HTML (one self-contained page with thumbnails; `html.render_plan` takes the pictures).

Every view renders the JSON form of a plan (`Plan.to_dict()`, or a saved plan file loaded
with `json.load`), never model objects, so a saved plan renders exactly like a fresh one.

    from reconciler import render
    text = render.render_plan(plan.to_dict(), "human", color=render.should_color(sys.stdout))

or call a view directly: `render.human.render_plan`, `render.json.render_plan`,
`render.markdown.render_plan`. `render.json.validate_plan` checks a plan dict against
schemas/plan.schema.json.
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from reconciler.render import human
from reconciler.render.human import should_color

FORMATS = ("human", "json", "markdown", "html")
_LAZY_VIEWS = ("html", "json", "markdown")   # imported on first use: `apply` prints only the human view


def __getattr__(name: str) -> Any:
    """`render.html`, `render.json`, `render.markdown` without importing them up front."""
    if name in _LAZY_VIEWS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_plan(plan: Mapping[str, Any], fmt: str = "human", **options: Any) -> str:
    """The plan in one of FORMATS; `options` go to that view's render_plan (human:
    color, width, max_image_lines; markdown: max_chars, json_hint). Human output is
    uncoloured unless `color=True`. ValueError for an unknown format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown plan format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    if fmt == "human":
        options.setdefault("color", False)
    view = human if fmt == "human" else importlib.import_module(f"{__name__}.{fmt}")
    return view.render_plan(plan, **options)


__all__ = ["FORMATS", "html", "human", "json", "markdown", "render_plan", "should_color"]
