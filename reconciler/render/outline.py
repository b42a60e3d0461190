"""A plan explained as a list of lines, before any presentation.

The human view indents and colours these lines; the Markdown view puts each line's symbol
in the first column of a ```diff block. Building them once keeps the two views saying the
same thing. Input is the JSON form of a plan (`Plan.to_dict()`).

Every piece of user-provided text (addresses, names, paths, notes) goes through `clean`,
so a name cannot smuggle terminal escape codes or line breaks into any view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from reconciler.model import Op, Step
from reconciler.render import symbols
from reconciler.render.symbols import Tone
from reconciler.stepargs import CloneDatasetArgs, SupersedeModelArgs
from reconciler.render.values import fold, value_text
from reconciler.textsafe import clean_text

_ID_KEYS = frozenset({"remote_id", "id"})
# C0/C1 controls (ESC starts terminal sequences), line/paragraph separators, and the
# bidirectional overrides that can make text read differently from what it is.

# ImageChanges groups: key, margin symbol, tone, phrase after "N images" in a fold line,
# suffix after each listed path.
_IMAGE_GROUPS = (
    ("upload", "+", Tone.CREATE, "to upload", ""),
    ("delete", "-", Tone.DELETE, "to delete", ""),
    ("caption", "~", Tone.UPDATE, "with a manual caption to set", " (caption set)"),
    ("regenerate", "~", Tone.UPDATE, "with the caption back to automatic", " (caption → automatic)"),
)


# Block steps that touch only the state: not listed under "API calls".
_NO_CALL_OPS = frozenset({Op.MOVE_ADDRESS.value, Op.REMOVE_FROM_STATE.value})


@dataclass(frozen=True)
class Line:
    mark: str          # margin symbol: "+", "-", "~", "-/+", "+/~", "!", "#", or "" (none)
    text: str
    tone: Tone = Tone.PLAIN
    depth: int = 0     # nesting under the change header


@dataclass(frozen=True)
class Outline:
    drift: tuple[Line, ...]
    legend: tuple[Line, ...]
    changes: tuple[tuple[Line, ...], ...]   # one block of lines per change
    notes: tuple[Line, ...]


def clean(text: Any) -> str:
    """Control characters (ESC, newlines, …) shown as `\\uXXXX` instead of acting."""
    return clean_text(text)


def format_value(value: Any) -> str:
    """A JSON-ish one-line rendering of a value, whole (see render/values.py)."""
    return value_text(value)


def build_outline(plan: Mapping[str, Any], *, width: int | None = 100, max_image_lines: int | None = 10) -> Outline:
    """`width=None`: no folding; `max_image_lines=None`: every image change listed."""
    changes = symbols.visible_changes(plan)
    blocks = tuple(tuple(change_block(c, width=width, max_image_lines=max_image_lines))
                   for c in changes)
    return Outline(
        drift=tuple(drift_lines(plan.get("drift") or (), width=width)),
        legend=tuple(legend_lines(changes)),
        changes=blocks,
        notes=tuple(Line("-", clean(n)) for n in plan.get("notes") or ()),
    )


def legend_lines(changes: Iterable[Mapping[str, Any]]) -> list[Line]:
    """One line per symbol this plan uses, in a fixed order."""
    used = {symbols.style_of(c) for c in changes}
    order = (symbols.CREATE, symbols.NEW_VERSION, symbols.UPDATE, symbols.DELETE, symbols.REPLACE,
             symbols.MOVE, symbols.IMPORT, symbols.FORGET)
    return [Line(s.symbol, s.legend, s.tone) for s in order if s in used]


def drift_lines(drift: Iterable[Mapping[str, Any]], *, width: int | None) -> list[Line]:
    lines: list[Line] = []
    for item in drift:
        addr = clean(item.get("address", "?"))
        remote = item.get("remote_id")
        where = f" (remote #{remote})" if remote is not None else ""
        if item.get("kind") == "deleted":
            lines.append(Line("-", f"{addr}{where} was deleted outside bria", Tone.DELETE))
            continue
        lines.append(Line("~", f"{addr}{where} was changed outside bria", Tone.UPDATE))
        fields = item.get("fields") or {}
        for name in sorted(fields, key=str):       # sorted: saved plans have sorted keys
            pair = fields[name] or {}
            lines.extend(_pair_line("~", name, pair.get("expected"), pair.get("actual"), width))
    return lines


def change_block(change: Mapping[str, Any], *, width: int | None, max_image_lines: int | None) -> list[Line]:
    """Header comment, symbol line, then warnings, field diffs, images and API calls."""
    style = symbols.style_of(change)
    addr = clean(change.get("address", "?"))
    lines = [Line("#", f"{addr} {symbols.verb_of(change)}", Tone.COMMENT)]
    reason = symbols.reason_text(change)
    if reason:
        lines.append(Line("#", f"  reason: {clean(reason)}", Tone.COMMENT))
    remote = _remote_id(change.get("before"))
    # The id names the object acted on; a create's `before` (if any) is a predecessor.
    exists = style in (symbols.UPDATE, symbols.DELETE, symbols.REPLACE, symbols.FORGET)
    where = f" (remote #{remote})" if remote is not None and exists else ""
    tag = "  [protected]" if change.get("protected") else ""
    lines.append(Line(style.symbol, f"{addr}{where}{tag}", style.tone))
    lines.extend(_warning_lines(change, addr))
    # A key only in `before` means "gone" for a destroy; elsewhere it is just a fact about
    # the old object (its status, its old dataset id) that `after` does not track.
    gone_keys = style in (symbols.DELETE, symbols.REPLACE)
    lines.extend(field_lines(change.get("before"), change.get("after"), width=width,
                             show_gone=gone_keys or change.get("after") is None))
    lines.extend(image_lines(change.get("images"), max_image_lines=max_image_lines))
    calls = steps_summary(change.get("steps") or ())
    if calls:
        lines.append(Line("#", f"API calls: {calls}", Tone.COMMENT, depth=1))
    return lines


def _warning_lines(change: Mapping[str, Any], addr: str) -> list[Line]:
    lines: list[Line] = []
    if change.get("refused"):
        lines.append(Line("!", symbols.refusal_text(addr), Tone.WARN, depth=1))
    elif change.get("protected"):
        lines.append(Line("!", symbols.protected_text(addr), Tone.WARN, depth=1))
    if symbols.style_of(change) is symbols.NEW_VERSION:
        lines.append(Line("!", _kept_text(change), Tone.NEW_VERSION, depth=1))
    return lines


def _kept_text(change: Mapping[str, Any]) -> str:
    """Spell out that the predecessor survives: nothing that cost training is lost."""
    before = change.get("before")
    rid = _remote_id(before)
    if rid is None:    # the clone / supersede step names the old object even when `before` does not
        rid = next((_step_remote_id(s) for s in change.get("steps") or ()
                    if _step_remote_id(s) is not None), None)
    name = before.get("name") if isinstance(before, Mapping) else None
    ident = (f" #{rid}" if rid is not None else "") + (f" {format_value(name)}" if name else "")
    if "clone" in symbols.actions_of(change):
        return f"the completed version{ident} is KEPT unchanged; the new draft becomes current"
    return f"the old model{ident} is KEPT (recorded as superseded, not deleted)"


def _step_remote_id(step: Mapping[str, Any]) -> int | None:
    """The old object a clone / supersede step names (read through its argument class)."""
    try:
        args = Step.from_dict(step).args
    except (KeyError, TypeError, ValueError):
        return None
    if isinstance(args, CloneDatasetArgs):
        return args.source_remote_id
    if isinstance(args, SupersedeModelArgs):
        return args.remote_id
    return None


def _remote_id(fields: Any) -> Any:
    if not isinstance(fields, Mapping):
        return None
    return fields.get("remote_id", fields.get("id"))


def field_lines(before: Any, after: Any, *, width: int | None, show_gone: bool = True) -> list[Line]:
    """`+ key: value` for new fields, `- key: value` for gone ones, `~ key: a → b` for changes.
    Remote ids are shown on the change's header line instead."""
    before = before if isinstance(before, Mapping) else {}
    after = after if isinstance(after, Mapping) else {}
    # Sorted (name first), not in dict order: a saved plan has sorted keys and must render
    # exactly like a fresh one.
    keys = sorted((set(before) | set(after)) - _ID_KEYS, key=lambda k: (k != "name", str(k)))
    lines: list[Line] = []
    for key in keys:
        if key in before and key in after:
            if before[key] != after[key]:
                lines.extend(_pair_line("~", key, before[key], after[key], width))
        elif key in after and after[key] is not None:     # an unset field is not news
            lines.extend(_single_line("+", Tone.CREATE, key, after[key], width))
        elif key in before and show_gone and before[key] is not None:
            lines.extend(_single_line("-", Tone.DELETE, key, before[key], width))
    return lines


def _single_line(mark: str, tone: Tone, key: str, value: Any, width: int | None) -> list[Line]:
    """`+ key: value` on one line when it fits; else `+ key:` and the value folded below it."""
    text = value_text(value)
    if width is None or len(key) + len(text) + 12 <= width:
        return [Line(mark, f"{clean(key)}: {text}", tone, depth=1)]
    return [Line(mark, f"{clean(key)}:", tone, depth=1),
            *(Line(mark, piece, tone, depth=2) for piece in fold(text, width - 14))]


def _pair_line(mark: str, key: str, old: Any, new: Any, width: int | None) -> list[Line]:
    """`~ key: old → new` when it fits; else the old value (-) and the new one (+), folded."""
    before, after = value_text(old), value_text(new)
    if width is None or len(key) + len(before) + len(after) + 16 <= width:
        return [Line(mark, f"{clean(key)}: {before} → {after}", Tone.UPDATE, depth=1)]
    return [Line(mark, f"{clean(key)}: (old → new)", Tone.UPDATE, depth=1),
            *(Line("-", piece, Tone.DELETE, depth=2) for piece in fold(before, width - 14)),
            *(Line("+", piece, Tone.CREATE, depth=2) for piece in fold(after, width - 14))]


def image_lines(images: Mapping[str, Any] | None, *, max_image_lines: int | None) -> list[Line]:
    """Every image when there are at most `max_image_lines`; otherwise a count per group
    with the first few of each, sharing the same budget of lines."""
    if not images:
        return []
    groups = [(g, list(images.get(g[0]) or ())) for g in _IMAGE_GROUPS]
    groups = [(g, items) for g, items in groups if items]
    if not groups:
        return []
    total = sum(len(items) for _, items in groups)
    values = images.get("caption_values") or {}
    if max_image_lines is None or total <= max_image_lines:
        lines = [Line("#", f"images: {_image_counts(groups)}", Tone.COMMENT, depth=1)]
        for (_, mark, tone, _, suffix), items in groups:
            lines.extend(Line(mark, _image_text(p, suffix, values), tone, depth=2) for p in items)
        return lines
    quotas = _share_budget([len(items) for _, items in groups], max_image_lines)
    lines = []
    for ((_, mark, tone, phrase, suffix), items), shown in zip(groups, quotas):
        note = f" (first {shown} shown)" if shown else ""
        lines.append(Line(mark, f"{len(items)} {_images(len(items))} {phrase}{note}", tone, depth=1))
        lines.extend(Line(mark, _image_text(p, suffix, values), tone, depth=2) for p in items[:shown])
    return lines


def _image_text(path: str, suffix: str, values: Mapping[str, Any]) -> str:
    """`images/a.png (caption set)`, or with the caption's old and new text when the plan
    carries them: `images/a.png caption: "old" → "new"` (null new = automatic)."""
    pair = values.get(path)
    if not isinstance(pair, Mapping):
        return f"{clean(path)}{suffix}"
    new = pair.get("new")
    return (f"{clean(path)} caption: {value_text(pair.get('old'))} → "
            f"{value_text(new) if new is not None else 'automatic'}")


def _share_budget(sizes: list[int], budget: int) -> list[int]:
    """Split `budget` lines over groups as evenly as their sizes allow, in order."""
    quotas = [0] * len(sizes)
    while budget > 0:
        open_groups = [i for i, n in enumerate(sizes) if quotas[i] < n]
        if not open_groups:
            break
        for i in open_groups[:budget]:
            quotas[i] += 1
        budget -= min(budget, len(open_groups))
    return quotas


def _images(n: int) -> str:
    return "image" if n == 1 else "images"


def _image_counts(groups: list) -> str:
    return ", ".join(f"{len(items)} {phrase}" for (_, _, _, phrase, _), items in groups)


def steps_summary(steps: Iterable[Mapping[str, Any]], limit: int = 8) -> str:
    """`create_dataset, upload_image ×200, complete_dataset`: runs of one op are counted."""
    runs: list[list[Any]] = []
    for step in steps:
        if step.get("op") in _NO_CALL_OPS:
            continue
        op = clean(step.get("op", "?"))
        if runs and runs[-1][0] == op:
            runs[-1][1] += 1
        else:
            runs.append([op, 1])
    parts = [op if n == 1 else f"{op} ×{n}" for op, n in runs]
    if len(parts) > limit:
        parts = parts[:limit] + [f"… {len(parts) - limit} more"]
    return ", ".join(parts)
