"""The plain console (reconciler/cli/console.py) writes what rich's Console writes to a
non-terminal, for every kind of text bria prints, without importing rich."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys

import pytest
from rich.console import Console

from reconciler.cli.console import PlainConsole, open_console

TEXTS = [
    "dataset.luna: create…",
    "model.luna: uploaded 120/200 images",
    "  + caption \"a cat\tsitting\" (tab inside)",
    "\tindented\tby tabs\nsecond\tline",
    "bell\x07 backspace\x08 vt\x0b ff\x0c cr\r end",
    "x" * 300,                                       # longer than any width: never wrapped
    "ünïcödé — “quotes” ✓ 漢字",
    "[bold]not markup[/bold] and [link=x]",
    "trailing spaces   ",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_plain_output_is_what_rich_writes_to_a_pipe(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    Console(file=buffer, highlight=False, soft_wrap=True).print(text, markup=False, highlight=False)
    PlainConsole().print(text, markup=False, highlight=False)
    assert capsys.readouterr().out == buffer.getvalue()


def test_emoji_codes_are_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """rich would turn `:rocket:` into 🚀; a model's name is printed as the user wrote it."""
    PlainConsole().print("model.launch :rocket: v2", markup=False)
    assert capsys.readouterr().out == "model.launch :rocket: v2\n"


def test_every_print_is_flushed() -> None:
    """A CI log must show each progress line when it happens: stdout to a pipe is block
    buffered, so the console flushes after each print (rich does too)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom reconciler.cli.console import PlainConsole\n"
                               "PlainConsole().print('first')\ntime.sleep(30)"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": ""})
    try:
        assert child.stdout is not None
        readable, _, _ = select.select([child.stdout], [], [], 10.0)    # while the child sleeps
        assert readable, "the line was not flushed"
        assert child.stdout.readline() == b"first\n"
    finally:
        child.kill()
        child.wait()


def test_width_is_rich_s(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_terminal(_: int) -> os.terminal_size:
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert PlainConsole().width == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert PlainConsole().width == 132
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((100, 40)))
    assert PlainConsole().width == 132          # COLUMNS wins, as in rich
    monkeypatch.delenv("COLUMNS")
    assert PlainConsole().width == 100


def test_rich_is_used_where_a_terminal_is_possible(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())     # not a terminal
    assert isinstance(open_console(), PlainConsole)
    monkeypatch.setenv("NO_COLOR", "1")
    assert open_console().no_color is True
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert isinstance(open_console(), Console)


def test_a_piped_apply_does_not_import_rich() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import sys, io\nsys.stdout = io.StringIO()\n"
                               "from reconciler.cli.console import open_console\nopen_console().print('x')\n"
                               "sys.stderr.write(str(sorted(m for m in sys.modules if m.split('.')[0] == 'rich')))"],
        capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                             if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")})
    assert child.returncode == 0, child.stderr
    assert child.stderr == "[]"
