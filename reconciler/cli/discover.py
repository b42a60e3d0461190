"""`bria import --discover`: restore a lost state from the account, shown as a plan first.

Lists the account once, proposes an import per manifest resource found by name and parent
(executor/discovery.py), prints the proposals, asks for confirmation (`yes`, or
--auto-approve), then imports them all and writes the state once. Nothing is written
before the confirmation; nothing in the API changes.
"""

from __future__ import annotations

import asyncio
import sys
import click

from reconciler.api import errors as api_errors
from reconciler.cli import exitcodes
from reconciler.cli.common import build_client
from reconciler.executor.discovery import discover
from reconciler.executor.importing import ImportRefused, import_resource
from reconciler.model import Manifest
from reconciler.state.model import State
from reconciler.state.store import StateStore


async def discover_and_import(manifest: Manifest, store: StateStore, state: State, auto_approve: bool) -> int:
    try:
        async with build_client(manifest) as client:
            found = await discover(manifest, state, client)
            for problem in found.problems:
                click.echo(f"! {problem}")
            if not found.proposals:
                click.echo("Nothing to import: no untracked object in the account matches the manifest.")
                return exitcodes.ERROR if found.problems else exitcodes.OK
            click.echo("bria will record these existing objects in state (nothing in the API changes):")
            for p in found.proposals:
                click.echo(f"  import {p.address} {p.remote_id}" + (f"   ({p.note})" if p.note else ""))
            if not _approved(auto_approve):
                return exitcodes.ERROR
            for p in found.proposals:
                state = await import_resource(manifest, state, client, p.address, p.remote_id)
    except (ImportRefused, api_errors.ApiError) as exc:
        click.echo(f"error: {exc}; nothing was written", err=True)
        return exitcodes.ERROR
    await asyncio.to_thread(store.write, state)
    click.echo(f"Imported {len(found.proposals)} object(s). Run `bria plan` to see what differs.")
    return exitcodes.ERROR if found.problems else exitcodes.OK


def _approved(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        click.echo("error: stdin is not a terminal, so bria cannot ask for confirmation; pass --auto-approve "
                   "to import without asking (nothing was written)", err=True)
        return False
    answer = click.prompt("Import these into state? Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        click.echo("error: import cancelled; nothing was written", err=True)
        return False
    return True
