"""`bria prune [ADDR]…`: delete the superseded models of the named (default: every) model
address. Shows the plan first; trained superseded models are protected (--allow-destroy
ADDR|all), and it asks for confirmation like apply (--auto-approve without a terminal).
The current model of each address is never touched. Exit codes as `bria apply`."""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import build_client, fail, load_manifest_or_exit, require_model_addresses
from reconciler.cli.session import StateOptions, state_options
from reconciler.model import address, split_address
from reconciler.state.model import State


@click.command("prune")
@click.argument("addresses", nargs=-1, metavar="[ADDR]...")
@state_options
@click.option("--allow-destroy", multiple=True, metavar="ADDR|all",
              help="Allow deleting the trained superseded models of ADDR (repeatable), or of all.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
def prune_command(addresses: tuple[str, ...], state_opts: StateOptions, allow_destroy: tuple[str, ...],
                  auto_approve: bool) -> None:
    """Delete superseded models (older models kept when an address was replaced)."""
    from reconciler.cli.apply import ApplyOptions, _locked_run
    from reconciler.executor.context import RunConfig

    manifest = load_manifest_or_exit(state_opts.manifest_file)
    require_model_addresses(addresses, "only models are superseded")
    allowed: Any = "all" if "all" in allow_destroy else frozenset(allow_destroy)
    options = ApplyOptions(auto_approve, RunConfig(parallelism=4), False, allow_destroy)

    async def body(store: Any, state: State) -> int:
        chosen = list(addresses) or [address("model", k) for k in sorted(state.models)]
        missing = [a for a in chosen if split_address(a)[1] not in state.models]
        if missing:
            fail(f"not in the state: {', '.join(missing)}", exitcodes.ERROR)
        return await _prune(manifest, store, state, chosen, allowed, options)

    sys.exit(_locked_run(manifest, state_opts, body))


async def _prune(manifest: Any, store: Any, state: State, chosen: list[str], allowed: Any, options: Any) -> int:
    from reconciler.cli.apply import NO_TTY_MESSAGE, _confirmed, _console, _err, _execute
    from reconciler.planner.prune import prune_plan
    from reconciler.render.human import render_plan

    console = _console()
    the_plan = prune_plan(state, chosen, allowed)
    if not the_plan.changes:
        console.print("No superseded models to prune.", markup=False)
        return exitcodes.OK
    console.print(render_plan(the_plan.to_dict(), color=console.is_terminal and not console.no_color,
                              width=console.width), markup=False, highlight=False)
    if the_plan.refused:
        _err("trained superseded models are protected: re-run with "
             + " ".join(f"--allow-destroy {c.address}" for c in the_plan.refused))
        return exitcodes.REFUSED
    if not options.auto_approve and not sys.stdin.isatty():
        _err(NO_TTY_MESSAGE)
        return exitcodes.ERROR
    if not options.auto_approve and not _confirmed():
        _err("prune cancelled; nothing was changed")
        return exitcodes.ERROR
    async with build_client(manifest, max_concurrency=options.run.parallelism) as client:
        return await _execute(the_plan, manifest, state, client, store, options, console)


COMMANDS = [prune_command]
