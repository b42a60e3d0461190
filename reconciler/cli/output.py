"""`bria output`: model ids, statuses and generation prefixes for later pipeline steps
(the JSON shape is versioned: reconciler/render/outputs.py). Reads the state without the
lock, so it works while an apply or a `bria wait` follows training; `--refresh` first reads
the live statuses into the state (that takes the lock)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import load_manifest_or_exit
from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.state.model import State


@click.command("output")
@click.option("--format", "fmt", type=click.Choice(["human", "json"]), default="human", show_default=True)
@state_options     # --lock-timeout: with --refresh, seconds to wait for another run's state lock
@click.option("--refresh", is_flag=True, help="Read the live statuses from the API into the state first.")
def output_command(fmt: str, state_opts: StateOptions, refresh: bool) -> None:
    """Per model: the newest model and the newest Completed one (id, status, generation prefix)."""
    from reconciler.render.outputs import output_lines, outputs

    manifest = load_manifest_or_exit(state_opts.manifest_file)
    if refresh:
        from reconciler.cli.refresh import refresh_state

        state = refresh_state(manifest, state_opts)[0]
    else:
        state = read_unlocked(manifest, state_opts)
    if fmt == "json":
        click.echo(json.dumps(outputs(state), indent=2, sort_keys=True))
    else:
        from reconciler.cli.refresh import refreshed_line

        click.echo("\n".join(output_lines(state) + [refreshed_line(state)]))
    sys.exit(exitcodes.OK)


def read_unlocked(manifest: Any, state_opts: StateOptions) -> State:
    """The stored state (empty when none), read without taking the lock."""
    with state_session(state_opts, manifest) as session:
        return session.store.read() or State.empty()


COMMANDS = [output_command]
