"""`bria output`: model ids, statuses and generation prefixes for later pipeline steps
(the JSON shape is versioned: reconciler/render/outputs.py). Reads the state without the
lock, so it works while an apply or a `bria wait` follows training; `--refresh` first reads
the live statuses into the state (that takes the lock)."""

from __future__ import annotations

import json
import sys

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import close_state, fail, load_manifest_or_exit
from reconciler.state.model import State


@click.command("output")
@click.option("--format", "fmt", type=click.Choice(["human", "json"]), default="human", show_default=True)
@click.option("-f", "--file", "manifest_path", default="bria.yaml", show_default=True, help="The manifest.")
@click.option("--state-backend", type=click.Choice(["local", "postgres"]), default=None)
@click.option("--refresh", is_flag=True, help="Read the live statuses from the API into the state first.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="With --refresh: seconds to wait for another run's state lock.")
def output_command(fmt: str, manifest_path: str, state_backend: str | None, refresh: bool,
                   lock_timeout: float) -> None:
    """Per model: the newest model and the newest Completed one (id, status, generation prefix)."""
    from reconciler.render.outputs import output_lines, outputs

    manifest = load_manifest_or_exit(manifest_path)
    if refresh:
        from reconciler.cli.refresh import refresh_state

        state = refresh_state(manifest, state_backend, lock_timeout)[0]
    else:
        state = read_unlocked(manifest, state_backend)
    if fmt == "json":
        click.echo(json.dumps(outputs(state), indent=2, sort_keys=True))
    else:
        from reconciler.cli.refresh import refreshed_line

        click.echo("\n".join(output_lines(state) + [refreshed_line(state)]))
    sys.exit(exitcodes.OK)


def read_unlocked(manifest, state_backend: str | None) -> State:
    """The stored state (empty when none), read without taking the lock."""
    from reconciler.state import open_store
    from reconciler.state.store import StateError

    try:
        store = open_store(manifest.state, override_backend=state_backend)
        try:
            return store.read() or State.empty()
        finally:
            close_state(store)
    except StateError as exc:
        fail(str(exc), exitcodes.ERROR)


COMMANDS = [output_command]
