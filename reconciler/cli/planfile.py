"""Saved plan files (`bria plan --out FILE`): reading one, and `bria show FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import fail
from reconciler.model import Plan


def read_plan_file(path: Path, what: str = "bria plan") -> Plan:
    """The plan saved at `path`; exits 1 naming the file when it is not a readable plan."""
    try:
        return Plan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"{path}: not a readable {what} ({exc})", exitcodes.ERROR)


def show_plan_file(path: str, fmt: str) -> None:
    """Render a saved plan like `bria plan` does (no state, no API call)."""
    from reconciler.cli.plan import render

    plan = read_plan_file(Path(path))
    click.echo(render(plan.to_dict(), fmt), nl=False)
