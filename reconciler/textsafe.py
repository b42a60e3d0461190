"""Making text that came from outside (the API, a server's error body) safe to print.

`clean_text` is the one sanitiser: every control character — C0 (ESC, BEL, CR, LF, TAB, …),
DEL, C1 (including the 8-bit CSI/OSC introducers) — and the Unicode line separators and
bidirectional overrides are shown as a visible `\\uXXXX` escape instead of acting. So an API
message cannot move the cursor, set the window title (OSC … BEL), overwrite a line (CR),
break a Markdown table or make text read backwards. Printable text, including non-ASCII
letters, is kept as it is. Imports nothing, so every layer may use it.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def clean_text(text: Any) -> str:
    """`text` (any value, through str()) with every unsafe character shown as `\\uXXXX`."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


def preview(text: Any, limit: int = 200) -> str:
    """`clean_text`, cut to `limit` characters (an ellipsis marks the cut)."""
    cleaned = clean_text(text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
