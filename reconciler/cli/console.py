"""Where `bria apply`, `prune` and `wait` print: rich's Console on a terminal, a plain
writer elsewhere.

On a terminal rich draws colours and live progress bars. In a pipeline (stdout a pipe or
a file, the usual GitOps case) bria prints plain lines only, and importing rich for them
would cost ~40 ms of CPU on every run — a tenth of a small apply. `PlainConsole` offers the
part of rich's Console those commands use (`print`, `is_terminal`, `no_color`, `width`)
and writes what rich would write there: the text as given, tabs expanded, the control
characters rich drops (bell, backspace, vertical tab, form feed, carriage return) dropped,
each print flushed so that a CI log shows progress as it happens. One difference, on
purpose: rich replaces emoji codes such as `:rocket:` even in plain text; bria prints
names and captions exactly as they are.

rich decides when it is in doubt: whenever stdout is a terminal, or FORCE_COLOR or
TTY_COMPATIBLE is set (rich's own overrides), the console is rich's.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# What rich's Text drops from printed text (rich.control.strip_control_codes).
_DROPPED = {ord(c): None for c in "\x07\x08\x0b\x0c\r"}
_TAB_SIZE = 8              # rich's default


def open_console() -> Any:
    """rich's Console on a terminal (or when rich's environment overrides are set), else a
    `PlainConsole`."""
    if _terminal_possible():
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)
    return PlainConsole()


def _terminal_possible() -> bool:
    if os.environ.get("FORCE_COLOR") is not None or os.environ.get("TTY_COMPATIBLE") is not None:
        return True
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:       # a closed stdout
        return False


class PlainConsole:
    """rich's Console as seen by bria's commands when stdout is not a terminal (module doc)."""

    is_terminal = False

    def __init__(self) -> None:
        self.no_color = os.environ.get("NO_COLOR", "") != ""

    @property
    def width(self) -> int:
        """As rich measures it: the size of the first of stdin, stdout and stderr that is a
        terminal, overridden by COLUMNS; 80 when that leaves nothing (or 0)."""
        width = None
        for descriptor in (0, 1, 2):
            try:
                width = os.get_terminal_size(descriptor).columns
            except (AttributeError, ValueError, OSError):
                continue
            break
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            width = int(columns)
        return width or 80

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", **_rich_options: Any) -> None:
        """Write `objects` as text (markup, highlighting and styles are rich's and do not
        apply to plain output)."""
        text = sep.join(str(o) for o in objects).translate(_DROPPED)
        if "\t" in text:
            text = "\n".join(line.expandtabs(_TAB_SIZE) for line in text.split("\n"))
        out = sys.stdout        # looked up per print: a caller may have redirected it
        out.write(text + end)
        out.flush()
