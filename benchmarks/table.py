"""The one table the harness prints (Markdown, so it pastes into the README as is)."""

from __future__ import annotations

from typing import Sequence


def _fmt(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def render_table(rows: Sequence) -> str:
    header = ("| scenario | wall s | lower bound s | ratio | CPU s | requests | 429s | peak RSS MB | target | note |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    lines = [header]
    for r in rows:
        lines.append(f"| {r.scenario} | {_fmt(r.wall_s, '.2f')} | {_fmt(r.bound_s, '.2f')} | "
                     f"{_fmt(r.ratio, '.2f')} | {_fmt(r.cpu_s, '.2f')} | {_fmt(r.requests, 'd')} | {_fmt(r.rate_limited, 'd')} | "
                     f"{_fmt(r.peak_rss_mb, '.0f')} | {r.target} | {r.note} |")
    return "\n".join(lines)
