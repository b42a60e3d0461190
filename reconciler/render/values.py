"""Field values in a plan view, whole: a value that does not fit the width is folded onto
continuation lines, never cut, so a reviewer reads every character of a caption or prefix.

`width=None` means no limit (the Markdown view: a code block scrolls sideways, and one line
per value keeps it searchable). Folding keeps every character: joining a value's
continuation lines gives back its text exactly.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.textsafe import clean_text

MIN_ROOM = 24


def value_text(value: Any) -> str:
    """A JSON-ish one-line rendering of a value, with control characters shown escaped."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return clean_text(text)


def fold(text: str, room: int | None) -> list[str]:
    """`text` in pieces of at most `room` characters (one piece when room is None), broken
    after a space where one is near the end, else anywhere. "".join(pieces) == text."""
    if room is None or len(text) <= room:
        return [text]
    room = max(room, MIN_ROOM)
    pieces = []
    while len(text) > room:
        cut = text.rfind(" ", room // 2, room)
        cut = room if cut < 0 else cut + 1
        pieces.append(text[:cut])
        text = text[cut:]
    return pieces + [text] if text else pieces
