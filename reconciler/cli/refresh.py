"""`bria refresh`: read the live API into the state without changing anything in the API.

Absorbs what the API decides — model statuses and generation prefixes, current and
superseded (`executor/observed.py`) — and stamps `refreshed_at`. What the user decides
(names, descriptions, images) is not absorbed: a change made outside bria is reported here
as drift and stays in the state as bria applied it, so the next plan shows it and puts it
back. `refresh_state` is shared with `show --refresh` and `output --refresh`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING
import click

from reconciler.cli import exitcodes
from reconciler.cli.common import build_client, command_line, fail, load_manifest_or_exit, run_async
from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.cli.waiting import DEFAULT_REFRESH_TIMEOUT, refresh_timeout_option, within_deadline
from reconciler.model import Drift, Manifest
from reconciler.textsafe import clean_text
from reconciler.state.model import State

if TYPE_CHECKING:
    from reconciler.model import LiveView
    from reconciler.state.store import StateStore


@click.command("refresh")
@state_options
@refresh_timeout_option
def refresh_command(state_opts: StateOptions, refresh_timeout: float) -> None:
    """Update the state from the API (statuses, generation prefixes); the API is not changed.

    Changes made outside bria are listed as drift; the next `bria plan` shows what reverts them.
    """
    manifest = load_manifest_or_exit(state_opts.manifest_file)
    state, changed, drift = refresh_state(manifest, state_opts, refresh_timeout)
    for line in changed:
        click.echo(clean_text(line))
    for item in drift:
        click.echo(drift_line(item))
    if not changed and not drift:
        click.echo("The state already matches the API's statuses.")
    click.echo(f"State refreshed at {state.refreshed_at} (serial {state.serial}).")
    sys.exit(exitcodes.OK)


def refresh_state(manifest: Manifest, state_opts: StateOptions,
                  deadline: float = DEFAULT_REFRESH_TIMEOUT) -> tuple[State, list[str], list[Drift]]:
    """Lock, read, refresh from the API, absorb observed facts, write; exits on errors.
    Returns the written state, one line per absorbed change, and the drift found."""
    from reconciler.api import ApiError, TransportError

    with state_session(state_opts, manifest, lock=command_line()) as session:
        store = session.store
        stored = store.read()
        state = stored or State.empty()
        try:
            updated, changed, drift = run_async(_refresh(manifest, state, deadline))
        except (ApiError, TransportError) as exc:
            fail(f"could not read the live API: {exc}", exitcodes.ERROR)
        if stored is None and not state.addresses():
            return updated, changed, drift      # nothing to record: do not create a state
        return store.write(updated), changed, drift


async def _refresh(manifest: Manifest, state: State, deadline: float) -> tuple[State, list[str], list[Drift]]:
    from reconciler.executor.clock import RealClock
    from reconciler.executor.observed import absorb_model_statuses
    from reconciler.planner import PlanError, plan
    from reconciler.refresh import refresh

    async with build_client(manifest) as client:
        live = await within_deadline(refresh(client, state), client.stats, deadline)
    updated, changed = absorb_model_statuses(state, live, RealClock().now_iso())
    try:
        drift = list(plan(manifest, updated, live).drift)
    except PlanError:
        drift = []
    return updated, changed, drift


def drift_line(drift: Drift) -> str:
    if drift.kind == "deleted":
        return f"drift: {drift.address} (remote {drift.remote_id}) was deleted outside bria"
    fields = ", ".join(f"{name} {v.get('expected')!r} → {v.get('actual')!r}"
                       for name, v in drift.fields.items())
    return clean_text(f"drift: {drift.address} changed outside bria: {fields}")


def refreshed_line(state: State) -> str:
    """When the statuses in `state` were last read from the API, for people."""
    if state.refreshed_at:
        return f"Statuses as of {state.refreshed_at} (run `bria refresh` or pass --refresh to update)."
    return "Statuses were never refreshed from the API (run `bria refresh` or pass --refresh)."


COMMANDS = [refresh_command]


async def absorb_into_state(state: State, live: "LiveView", store: "StateStore") -> State:
    """For apply: take in the statuses its refresh just read; written at once when a model's
    status or prefix moved (so `bria output` sees it even when there is nothing to apply)."""
    import asyncio

    from reconciler.executor.clock import RealClock
    from reconciler.executor.observed import absorb_model_statuses

    updated, changed = absorb_model_statuses(state, live, RealClock().now_iso())
    if changed and state.serial > 0:
        return await asyncio.to_thread(store.write, updated)
    return updated
