"""What the user sees while apply runs.

`Reporter` is silent (tests, library use). `ConsoleReporter` prints to a rich Console:
on an interactive terminal (and without NO_COLOR) it shows live progress bars for uploads
and a status line per training model; otherwise it prints plain lines with no ANSI codes —
one per change started/finished, upload milestones, and training status periodically.
"""

from __future__ import annotations

from typing import Any, Mapping

from reconciler.status import RUNNING, ModelStatus
from reconciler.textsafe import clean_text

PLAIN_TRAINING_EVERY = 30.0   # seconds between plain training status lines (also on any change)


def _fmt_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _rate_column() -> Any:
    """Items per second (images uploaded), from rich's running speed estimate."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:.1f}/s" if task.speed else "–/s")

    return RateColumn()


class Reporter:
    """The silent reporter; the interface every reporter implements."""

    def change_started(self, address: str, actions: str) -> None: ...

    def change_finished(self, address: str, status: str, message: str = "") -> None: ...

    def uploads_started(self, address: str, total: int) -> None: ...

    def upload_done(self, address: str) -> None: ...

    def training(self, statuses: Mapping[str, str], elapsed: float) -> None: ...

    def note(self, text: str) -> None: ...

    def close(self) -> None: ...


class ConsoleReporter(Reporter):
    def __init__(self, console: Any):
        self._console = console
        self._live = bool(console.is_terminal) and not console.no_color
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._uploads: dict[str, list[int]] = {}        # address → [done, total] (plain mode)
        self._last_training: tuple[float, dict[str, str]] = (-PLAIN_TRAINING_EVERY, {})

    def _print(self, text: str, style: str | None = None) -> None:
        target = self._progress.console if self._progress is not None else self._console
        target.print(text, style=style if self._live else None, markup=False, highlight=False)

    def _bars(self) -> Any:
        if self._progress is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      _rate_column(), TimeElapsedColumn(), TextColumn("eta"),
                                      TimeRemainingColumn(), console=self._console)
            self._progress.start()
        return self._progress

    def change_started(self, address: str, actions: str) -> None:
        self._print(f"{address}: {actions}…")

    def change_finished(self, address: str, status: str, message: str = "") -> None:
        style = {"succeeded": "green", "failed": "red"}.get(status, "yellow")
        self._print(f"{address}: {status}" + (f" — {message}" if message else ""), style)

    def uploads_started(self, address: str, total: int) -> None:
        if self._live:
            self._tasks[address] = self._bars().add_task(f"{address} uploads", total=total)
        else:
            self._uploads[address] = [0, total]

    def upload_done(self, address: str) -> None:
        if self._live:
            if address in self._tasks:
                self._bars().advance(self._tasks[address])
            return
        counts = self._uploads.setdefault(address, [0, 0])
        counts[0] += 1
        step = max(1, counts[1] // 4)
        if counts[0] % step == 0 or counts[0] == counts[1]:
            self._print(f"{address}: uploaded {counts[0]}/{counts[1]} images")

    def training(self, statuses: Mapping[str, str], elapsed: float) -> None:
        if self._live:
            bars = self._bars()
            for address, status in statuses.items():
                text = f"{address}: training {status}"
                if address not in self._tasks:
                    self._tasks[address] = bars.add_task(text, total=None)
                bars.update(self._tasks[address], description=text,
                            completed=1 if status not in (*RUNNING, ModelStatus.CREATED) else 0,
                            total=1 if status not in (*RUNNING, ModelStatus.CREATED) else None)
            return
        last_time, last = self._last_training
        if dict(statuses) != last or elapsed - last_time >= PLAIN_TRAINING_EVERY:
            for address, status in statuses.items():
                self._print(f"{address}: {status} (elapsed {_fmt_elapsed(elapsed)})")
            self._last_training = (elapsed, dict(statuses))

    def note(self, text: str) -> None:
        self._print(clean_text(text))     # notes may quote API text (an error, a name)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
