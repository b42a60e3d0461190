"""The console `apply`, `destroy`, `prune` and `wait` print to.

On a terminal that is rich's Console (colours, live progress bars). Anywhere else — a pipe,
a file, a CI log — rich shows nothing plain text does not (no colour, no bars: see
executor/progress.py), so a `PlainConsole` prints the same lines without importing rich,
which costs ~15 ms of CPU per run. Whether the output is a terminal is decided as rich
decides it (TTY_COMPATIBLE, FORCE_COLOR, then `isatty`), so FORCE_COLOR=1 still gets rich.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Mapping

# What rich's Text drops from printed text (rich.control.strip_control_codes): BEL, BS, VT, FF, CR.
_RICH_STRIPPED = re.compile("[\x07\x08\x0b\x0c\x0d]")


def make_console() -> Any:
    """rich's Console on a terminal, a PlainConsole elsewhere (same `print` signature)."""
    if output_is_terminal(os.environ, sys.stdout):
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)
    return PlainConsole()


def output_is_terminal(environ: Mapping[str, str], stream: Any) -> bool:
    """rich's Console.is_terminal for `stream`, without importing rich."""
    tty_compatible = environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force_color = environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:          # a closed stream
        return False


class PlainConsole:
    """The part of rich's Console the commands use, for output that is not a terminal:
    `print` writes the text as rich would with `soft_wrap=True` and no terminal (no styles,
    no wrapping, tabs expanded, BEL/BS/VT/FF/CR dropped) to the current sys.stdout."""

    is_terminal = False

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ
        self.no_color = self._environ.get("NO_COLOR", "") != ""

    @property
    def width(self) -> int:
        """rich's width: a terminal size found on stdin/stdout/stderr, COLUMNS over it, else 80."""
        width = None
        for fd in (0, 1, 2):
            try:
                width = os.get_terminal_size(fd).columns
                break
            except (AttributeError, ValueError, OSError):
                pass
        columns = self._environ.get("COLUMNS")
        if columns is not None and columns.isdigit():
            width = int(columns)
        return width or 80

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", style: Any = None, markup: Any = None,
              highlight: Any = None, **_: Any) -> None:
        text = sep.join(str(o) for o in objects)
        text = "\n".join(_RICH_STRIPPED.sub("", line).expandtabs(8) for line in text.split("\n"))
        out = sys.stdout
        out.write(text + end)
        out.flush()
