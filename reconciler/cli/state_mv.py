"""`bria state mv SRC DST`: move a state record to another address (the command-line form of a
`moved:` block). State only: no API call, so nothing is retrained. References follow the move
(a moved dataset's models, a moved project's datasets)."""

from __future__ import annotations

import click

from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.model import split_address


@click.command("mv")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@state_options
def move_command(source: str, destination: str, state_opts: StateOptions) -> None:
    """Move the record at SRC to DST (e.g. model.luna_max model.luna_main); the API is not touched.

    Prefer a `moved:` block in the manifest when the rename goes through review."""
    from reconciler.cli.state import _fail
    from reconciler.state.moves import MoveError, move_resource

    for addr in (source, destination):
        try:
            split_address(addr)
        except ValueError as exc:
            _fail(str(exc))
    with state_session(state_opts) as session:
        store = session.store
        store.lock(f"bria state mv {source} {destination}")
        current = store.read()
        if current is None:
            _fail(f"no state yet in {store.describe()}")
            return
        try:
            moved = move_resource(current, source, destination)
        except MoveError as exc:
            _fail(f"{exc} ({store.describe()})")
            return
        written = store.write(moved)
    click.echo(f"Moved {source} to {destination} in {store.describe()} (serial {written.serial}); "
               "the API was not touched.")
