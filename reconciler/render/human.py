"""The terminal view of a plan, Terraform-style.

Input is the JSON form of a plan (`Plan.to_dict()`), so a saved plan renders exactly like
a fresh one. Colour is plain ANSI SGR codes, added only when the caller asks for it; the
CLI decides with `should_color` (a TTY and NO_COLOR unset, per https://no-color.org).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, TextIO

from reconciler.render import symbols
from reconciler.render.outline import Line, Outline, build_outline, clean
from reconciler.render.symbols import Tone

Paint = Callable[[str, Tone], str]

_RESET = "\x1b[0m"
_SGR = {
    Tone.CREATE: "\x1b[32m",        # green
    Tone.UPDATE: "\x1b[33m",        # yellow
    Tone.DELETE: "\x1b[31m",        # red
    Tone.REPLACE: "\x1b[35m",       # magenta
    Tone.NEW_VERSION: "\x1b[36m",   # cyan
    Tone.WARN: "\x1b[1;31m",        # bold red
    Tone.COMMENT: "\x1b[2m",        # dim
    Tone.HEADING: "\x1b[1m",        # bold
}


def should_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to a non-empty value."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):   # closed or not a real stream
        return False


def render_plan(plan: Mapping[str, Any], *, color: bool, width: int = 100,
                max_image_lines: int = 10) -> str:
    """The whole plan as text ending in a newline; no ANSI escapes unless `color`."""
    outline = build_outline(plan, width=width, max_image_lines=max_image_lines)
    paint = _painter(color)
    blocks = [_drift_block(outline, paint), _changes_block(outline, paint),
              _notes_block(outline, paint), _summary_block(plan, paint)]
    return "\n\n".join(b for b in blocks if b) + "\n"


def _painter(color: bool) -> Paint:
    def paint(text: str, tone: Tone) -> str:
        code = _SGR.get(tone) if color else None
        return f"{code}{text}{_RESET}" if code else text
    return paint


def _format_line(line: Line, paint: Paint, base_indent: int = 2) -> str:
    """`  + address` for headers; body lines sit under the header's text column."""
    indent = " " * (base_indent + 4 * line.depth)
    mark = paint(line.mark, line.tone) if line.mark else ""
    text = paint(line.text, line.tone) if line.tone in (Tone.COMMENT, Tone.WARN) else line.text
    if line.depth == 0 and line.tone not in (Tone.COMMENT, Tone.PLAIN):
        text = paint(line.text, Tone.HEADING)
    return f"{indent}{mark} {text}" if mark else f"{indent}{text}"


def _drift_block(outline: Outline, paint: Paint) -> str:
    if not outline.drift:
        return ""
    head = paint("Objects changed outside bria", Tone.HEADING) + " (recorded → actual):"
    return "\n".join([head, ""] + [_format_line(l, paint) for l in outline.drift])


def _changes_block(outline: Outline, paint: Paint) -> str:
    if not outline.changes:
        return ""
    legend = ["Resource actions are indicated with the following symbols:"]
    legend += [f"  {paint(l.mark.rjust(3), l.tone)} {l.text}" for l in outline.legend]
    body = [paint("Bria will perform the following actions:", Tone.HEADING)]
    for block in outline.changes:
        body.append("")
        body.extend(_format_line(line, paint) for line in block)
    return "\n".join(legend) + "\n\n" + "\n".join(body)


def _notes_block(outline: Outline, paint: Paint) -> str:
    if not outline.notes:
        return ""
    return "\n".join([paint("Notes:", Tone.HEADING)] + [_format_line(l, paint) for l in outline.notes])


def _summary_block(plan: Mapping[str, Any], paint: Paint) -> str:
    if not symbols.has_changes(plan):
        return paint(symbols.no_changes_line(plan), Tone.CREATE)
    lines = [paint(symbols.summary_line(plan), Tone.HEADING)]
    refused = symbols.refused_changes(plan)
    if refused:
        addrs = " ".join(f"--allow-destroy {c.get('address')}" for c in refused)
        lines.append(paint(f"Error: {len(refused)} change(s) refused: they would destroy protected "
                           f"resources. This plan cannot be applied; to allow it, re-run with "
                           f"{clean(addrs)}", Tone.WARN))
    return "\n".join(lines)
