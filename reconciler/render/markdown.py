"""The Markdown view of a plan, for pull-request comments (GitHub-flavoured).

Summary first — the counts, then refusals and drift as callouts — and the details folded
in a `<details>` block holding a ```diff code block (GitHub colours its `+`/`-` lines).
The whole comment stays under `max_chars` (GitHub rejects comments over 65,536): when the
details do not fit they are cut at a line boundary with a note pointing to the JSON plan.

User-provided text (addresses, names, paths) is escaped wherever Markdown or HTML would
interpret it; inside the code block it is literal, and the fence is made longer than any
run of backticks in the content so it cannot be closed early.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable, Mapping

from reconciler.render import pr_images, symbols
from reconciler.render.outline import Line, build_outline, clean

DEFAULT_JSON_HINT = "Run `bria plan --format json` (or save it with `--out plan.json`) for the full plan."
MAX_LISTED = 20          # refused / drift items listed in the visible summary
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")


def render_plan(plan: Mapping[str, Any], *, max_chars: int = 60000,
                json_hint: str | None = None, image_links: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The comment body, at most `max_chars` characters, ending in a newline.

    `json_hint` is written as Markdown (so CI may pass a link to the plan artifact); it is
    the operator's text, not the manifest's. `image_links` (made by the CLI inside GitHub
    Actions; see render.pr_images) adds small linked thumbnails of added and removed
    images; without it the output is exactly as before.
    """
    head = _head(plan)
    if image_links:
        head += pr_images.sections(plan, image_links)
    details = _detail_lines(plan)
    if not details:
        return _fit("\n\n".join(head) + "\n", max_chars)
    hint = " ".join((json_hint or DEFAULT_JSON_HINT).split())
    summary = _details_title(len(symbols.visible_changes(plan)), len(plan.get("drift") or ()))
    head_text = "\n\n".join(head)
    budget = max_chars - len(head_text) - len("\n\n") - len("\n")
    body = _details_block(summary, details, len(details), hint, budget)
    return _fit(head_text + "\n\n" + body + "\n", max_chars)


def _details_title(changes: int, drifted: int) -> str:
    parts = [f"{changes} change{'s' if changes != 1 else ''}"]
    if drifted:
        parts.append(f"{drifted} object{'s' if drifted != 1 else ''} changed outside bria")
    return "Plan details: " + ", ".join(parts)


def md_text(text: Any) -> str:
    """Plain text safe in Markdown prose: no line breaks, markup or HTML takes effect."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(clean(text).split()))


def md_code(text: Any) -> str:
    """An inline code span that holds any text, backticks included (CommonMark rules)."""
    text = " ".join(clean(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _head(plan: Mapping[str, Any]) -> list[str]:
    parts = ["### bria plan"]
    if symbols.has_changes(plan):
        parts.append(f"**{symbols.summary_line(plan)}**")
    else:
        parts.append(f"**{symbols.no_changes_line(plan)}**")
    refused = symbols.refused_changes(plan)
    if refused:
        parts.append(_callout("CAUTION", [
            f"**{len(refused)} change(s) refused**: applying this plan would destroy protected "
            "resources, so it cannot be applied as is. To allow it, re-run with "
            + md_code(" ".join(f"--allow-destroy {c.get('address')}" for c in refused[:MAX_LISTED])) + "."
        ], [f"{md_code(c.get('address'))}: would destroy {symbols.destroys_what(str(c.get('address')))}"
            for c in refused]))
    drift = list(plan.get("drift") or ())
    if drift:
        parts.append(_callout("WARNING", [
            f"**{len(drift)} object(s) changed outside bria** since the last apply:"
        ], [_drift_item(d) for d in drift]))
    notes = list(plan.get("notes") or ())
    if notes:
        parts.append(_callout("NOTE", [], [md_text(n) for n in notes]))
    return parts


def _drift_item(drift: Mapping[str, Any]) -> str:
    what = "deleted" if drift.get("kind") == "deleted" else "changed"
    fields = ", ".join(md_code(f) for f in sorted(drift.get("fields") or {}, key=str))
    return f"{md_code(drift.get('address'))} was {what}" + (f" ({fields})" if fields else "")


def _callout(kind: str, lead: list[str], items: list[str]) -> str:
    """A GitHub alert block; long lists end with "… and N more"."""
    shown = items[:MAX_LISTED]
    if len(items) > MAX_LISTED:
        shown.append(f"… and {len(items) - MAX_LISTED} more (see the details below)")
    lines = [f"[!{kind}]", *lead, *(f"- {item}" for item in shown)]
    return "\n".join(f"> {line}" for line in lines)


def _detail_lines(plan: Mapping[str, Any]) -> list[str]:
    """The outline as diff lines: the symbol in column 0 so GitHub colours it."""
    # Every value whole on its line and every image change listed: the comment's size
    # budget (max_chars) is the only limit, and a cut says how much was left out.
    outline = build_outline(plan, width=None, max_image_lines=None)
    lines: list[str] = []
    if outline.drift:
        lines += ["# Objects changed outside bria (recorded → actual):", *_diff(outline.drift), ""]
    for block in outline.changes:
        lines += [*_diff(block), ""]
    # Notes are not repeated here: the NOTE callout above already shows them.
    return lines[:-1] if lines and lines[-1] == "" else lines


def _diff(lines: Iterable[Line]) -> list[str]:
    return [f"{line.mark or ' '} {'    ' * line.depth}{line.text}" for line in lines]


def _details_block(summary: str, lines: list[str], total: int, hint: str, budget: int) -> str:
    """`<details>` with a diff block, cut at a line boundary to fit `budget` characters."""
    fence = "`" * max(3, 1 + max((len(r) for l in lines for r in re.findall(r"`+", l)), default=0))
    opening = f"<details><summary>{html.escape(summary)}</summary>\n\n{fence}diff\n"
    closing = f"{fence}\n\n</details>"
    full = opening + "\n".join(lines) + "\n" + closing
    if len(full) <= budget:
        return full
    kept: list[str] = []
    note = _truncation_note(0, total, hint)
    room = budget - len(opening) - len(closing) - len(note) - 64
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            break
        kept.append(line)
    note = _truncation_note(len(kept), total, hint)
    return opening + "\n".join(kept) + "\n" + closing + "\n\n" + note


def _truncation_note(shown: int, total: int, hint: str) -> str:
    return (f"> [!NOTE]\n> The details were cut to fit a comment: {shown:,} of {total:,} lines "
            f"shown, {total - shown:,} left out. {hint}")


def _fit(text: str, max_chars: int) -> str:
    """Last resort for a tiny limit: cut the whole text at a line boundary."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[: cut + 1] if cut >= 0 else ""
