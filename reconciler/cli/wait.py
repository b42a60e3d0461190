"""`bria wait [ADDR]…`: follow the training of the named models (default: every model in
state) until each has ended — also after an interrupted `apply --wait`.

Exit codes: 0 every model Completed; 5 any ended Failed or Stopped; 7 `--timeout` passed
with a training still running; 8 Ctrl-C / SIGTERM; 1 bad input (an address not in state, a
model that never started training). The state lock is held while waiting, as by `apply --wait`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import build_client, fail, load_manifest_or_exit, require_model_addresses
from reconciler.cli.session import StateOptions, state_options
from reconciler.model import address, split_address
from reconciler.state.model import State
from reconciler.status import ModelStatus
from reconciler.textsafe import clean_text

NOT_STARTED = ModelStatus.CREATED


@click.command("wait")
@click.argument("addresses", nargs=-1, metavar="[ADDR]...")
@state_options
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Give up after this long (exit 7); the trainings go on.")
@click.option("--poll-interval", type=float, default=5.0, hidden=True)
def wait_command(addresses: tuple[str, ...], state_opts: StateOptions, timeout: float | None,
                 poll_interval: float) -> None:
    """Follow training of ADDR (default: every model in state) until each one ends."""
    from reconciler.cli.apply import _locked_run

    manifest = load_manifest_or_exit(state_opts.manifest_file)
    require_model_addresses(addresses, "only models train")

    async def body(store: Any, state: State) -> int:
        followed = _followed(state, addresses)
        if not followed:
            click.echo("No model is training; nothing to wait for.")
            return exitcodes.OK
        return await _wait(manifest, store, state, followed, timeout, poll_interval)

    sys.exit(_locked_run(manifest, state_opts, body))


def _followed(state: State, addresses: tuple[str, ...]) -> list[str]:
    """The addresses to follow; exits 1 for one not in state or one that never started."""
    if not addresses:
        chosen = [address("model", k) for k, m in sorted(state.models.items()) if m.status != NOT_STARTED]
        for key in sorted(k for k, m in state.models.items() if m.status == NOT_STARTED):
            click.echo(f"model.{key}: not training (status Created); `bria apply` starts it")
        return chosen
    for addr in addresses:
        record = state.models.get(split_address(addr)[1])
        if record is None:
            fail(f"{addr} is not in the state (see `bria state list`)", exitcodes.ERROR)
        if record.status == NOT_STARTED:
            fail(f"{addr} has not started training (status Created): nothing to wait for; "
                 "`bria apply` starts it", exitcodes.ERROR)
    return list(dict.fromkeys(addresses))


async def _wait(manifest: Any, store: Any, state: State, followed: list[str], timeout: float | None,
                poll_interval: float) -> int:
    from reconciler.api import ApiError, TransportError
    from reconciler.cli.apply import _console, _install_cancel_handlers
    from reconciler.executor import ConsoleReporter
    from reconciler.executor.waiting import wait_for_training

    console = _console()
    cancel = asyncio.Event()
    _install_cancel_handlers(cancel)
    try:
        async with build_client(manifest) as client:
            result = await wait_for_training(state, followed, client=client, store=store,
                                             reporter=ConsoleReporter(console), cancel_event=cancel,
                                             poll_interval=poll_interval, timeout=timeout)
    except (ApiError, TransportError) as exc:
        click.echo(f"error: could not follow training: {exc}", err=True)
        return exitcodes.ERROR
    for addr, status in sorted(result.statuses.items()):
        model = result.state.models[split_address(addr)[1]]
        mark = "✓" if status == ModelStatus.COMPLETED else ("✗" if addr in result.failed else "·")
        prefix = f", generation_prefix {model.generation_prefix!r}" if status == ModelStatus.COMPLETED else ""
        console.print(clean_text(f"  {mark} {addr}: {status} (model {model.remote_id}{prefix})"), markup=False,
                      highlight=False)
    if result.cancelled:
        console.print("Cancelled; the trainings go on. Run `bria wait` again to follow them.", markup=False)
        return exitcodes.CANCELLED
    if result.failed:
        console.print(f"Training did not complete: {', '.join(result.failed)}.", markup=False)
        return exitcodes.PARTIAL
    if result.unfinished:
        console.print(f"Timed out after {timeout:g}s; still training: {', '.join(result.unfinished)}.",
                      markup=False)
        return exitcodes.TIMED_OUT
    console.print("All trainings completed.", markup=False)
    return exitcodes.OK


COMMANDS = [wait_command]
