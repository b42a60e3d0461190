"""SIGINT and SIGTERM, handled from the moment a command starts.

Python kills a process on SIGTERM (exit 143, no message, no `finally`); only SIGINT becomes
KeyboardInterrupt. bria treats both alike: from the start of `main` until it returns, either
signal raises `Interrupted` (a KeyboardInterrupt) in the main thread, which unwinds through
every `finally` (the state lock is released, the httpx client closed) and ends as exit 8
with a message naming the signal. Phases that must not be cut short — the executor's API
calls — install their own handlers on the event loop (`cli/apply.py`): there a signal only
stops new calls. asyncio resets the handlers when its loop closes, so `run_async` puts these
back afterwards (`reinstall`).

`Interrupted` is a subclass, never KeyboardInterrupt itself, and that matters: CPython (3.11
here) marks a plain KeyboardInterrupt raised inside `exec` of a string — as dataclasses and
namedtuples are made, at import time — as unhandled even when it is caught, and a process
that then ends normally is killed with SIGINT at exit. It checks the exact type only.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT or SIGTERM outside the executor's graceful phase."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal_name = signal.Signals(signum).name


_previous: dict[int, Any] | None = None     # handlers to restore; None when not installed


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install() -> None:
    """Raise `Interrupted` on SIGINT/SIGTERM until `uninstall`. Main thread only (else a no-op)."""
    global _previous
    try:
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        for sig in SIGNALS:
            signal.signal(sig, _raise)
    except ValueError:                      # not the main thread (e.g. an embedding test runner)
        return
    if _previous is None:
        _previous = previous


def reinstall() -> None:
    """Put the handlers back after something (an asyncio loop) replaced them, if installed."""
    if _previous is not None:
        for sig in SIGNALS:
            signal.signal(sig, _raise)


def uninstall() -> None:
    """Restore the handlers that were there before `install`."""
    global _previous
    previous, _previous = _previous, None
    if previous is not None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def signal_name(exc: BaseException | None) -> str:
    """"SIGTERM" / "SIGINT" for an interruption (a plain KeyboardInterrupt is a Ctrl-C)."""
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
