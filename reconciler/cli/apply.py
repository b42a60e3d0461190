"""`bria apply`, `bria destroy`, `bria import`, `bria output`.

apply without a saved plan: lock → read state → resolve the journal of an interrupted run →
refresh → plan → show → confirm (`yes` on a TTY, or --auto-approve) → execute → summary.
apply with a saved plan: the same lock and state read, then the plan is refused as stale
(exit 4) when the state or the manifest moved since it was made; otherwise it is executed
as is. Ctrl-C / SIGTERM during execution: no new calls, in-flight calls finish, state is
saved, exit 8.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import click

from reconciler.api import errors as api_errors
from reconciler.api.protocol import BriaApi
from reconciler.cli import exitcodes
from reconciler.cli.common import (PLANNING_MODULES, REQUEST_MODULES, build_client, check_address_flags,
                                   command_line, import_soon, load_manifest_or_exit, require_address,
                                   resolve_endpoint, run_async)
from reconciler.cli.session import StateOptions, error, state_options, state_session
from reconciler.cli.interrupts import signal_name
from reconciler.cli.safety import account_options, duplicates_message, mismatch_message, settle_option
from reconciler.cli.dialect import probe_helper_paths, settle_dialect
from reconciler.cli.first_reads import FirstReads
from reconciler.cli.waiting import DEFAULT_REFRESH_TIMEOUT, refresh_timeout_option, within_deadline
from reconciler.executor.config import DEFAULT_PARALLELISM, RunConfig
from reconciler.model import LiveView, Manifest, Plan
from reconciler.state.model import State
from reconciler.state.store import LockLost, StateError, StateStore
from reconciler.textsafe import clean_text

# Test hook for the crash tests (see reconciler/executor/calls.py): SIGKILL after N API calls.
KILL_AFTER_CALLS_ENV = "BRIA_TEST_KILL_AFTER_CALLS"


@dataclass(frozen=True)
class ApplyOptions:
    auto_approve: bool
    run: RunConfig                  # --parallelism, --poll-interval, --settle-window: the executor's settings
    wait: bool
    allow_destroy: tuple[str, ...]
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    destroying: bool = False        # `bria destroy`: the plan's deletions come from the command
    refresh_timeout: float = DEFAULT_REFRESH_TIMEOUT
    accept_missing: bool = False
    allow_duplicates: bool = False
    reviewed: tuple[str, dict] | None = None   # --reviewed-plan: (path, plan JSON); see reviewed.py


# What planning and applying import (~40 ms), imported while the first API calls are in
# flight, the moment that costs least (`_apply`); each still imports where it is used.
_import_planning_modules = import_soon(*PLANNING_MODULES, "reconciler.cli.refresh",
                                       "reconciler.executor.import_preview", "reconciler.executor.run",
                                       "reconciler.executor.summary")


def _console() -> Any:
    """rich's Console on a terminal (colours, live progress bars), plain lines elsewhere
    (reconciler/cli/console.py)."""
    from reconciler.cli.console import open_console

    return open_console()


_err = error


def _allow_destroy(values: tuple[str, ...]) -> Any:
    return "all" if "all" in values else frozenset(values)


def _run_config(parallelism: int, poll_interval: float, settle_window: float) -> RunConfig:
    return RunConfig(parallelism=parallelism, poll_interval=poll_interval, settle_window=settle_window)


def _apply_options(f: Any) -> Any:
    f = refresh_timeout_option(f)
    f = settle_option(account_options(f))
    f = click.option("--poll-interval", type=float, default=5.0, hidden=True)(f)
    f = click.option("--allow-destroy", multiple=True, metavar="ADDR|all",
                     help="Allow destroying this protected resource (repeatable), or all.")(f)
    f = click.option("--wait/--no-wait", default=False, help="Follow training to the end.")(f)
    # The default's reason is beside DEFAULT_PARALLELISM (executor/config.py).
    f = click.option("--parallelism", type=click.IntRange(1, 64), default=DEFAULT_PARALLELISM, show_default=True,
                     help="Concurrent API calls.")(f)
    return click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")(f)


NO_TTY_MESSAGE = ("stdin is not a terminal, so bria cannot ask for confirmation; "
                  "pass --auto-approve to apply without asking (nothing was changed)")


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@state_options
@_apply_options
@click.option("--target", multiple=True, metavar="ADDR", help="Only this resource and its dependencies.")
@click.option("--exclude", multiple=True, metavar="ADDR", help="Leave out this resource and its dependents.")
@click.option("--reviewed-plan", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Plan again and apply only if the plan matches this reviewed one (else exit 4 with a diff).")
def apply_command(plan_file: Path | None, state_opts: StateOptions, auto_approve: bool, parallelism: int, wait: bool,
                  allow_destroy: tuple[str, ...], poll_interval: float, refresh_timeout: float, settle_window: float,
                  accept_missing: bool, allow_duplicates: bool, target: tuple[str, ...],
                  exclude: tuple[str, ...], reviewed_plan: Path | None) -> None:
    """Make the API match the manifest (or carry out a saved PLAN_FILE)."""
    if plan_file is not None and reviewed_plan is not None:
        _err("give either a saved PLAN_FILE or --reviewed-plan, not both")
        sys.exit(exitcodes.ERROR)
    saved = _read_saved_plan(plan_file) if plan_file is not None else None
    reviewed = _read_saved_plan(reviewed_plan) if reviewed_plan is not None else None
    if reviewed is not None:   # the reviewed plan's selection, unless the command line gives one
        target, exclude = target or reviewed.targets, exclude or reviewed.excludes
    # The planner and executor are imported while the first list calls are in flight (_apply).
    manifest = load_manifest_or_exit(state_opts.manifest_file, meanwhile=import_soon(*REQUEST_MODULES))
    options = ApplyOptions(auto_approve or saved is not None or reviewed is not None,
                           _run_config(parallelism, poll_interval, settle_window),
                           wait, allow_destroy, target, exclude, refresh_timeout=refresh_timeout,
                           accept_missing=accept_missing, allow_duplicates=allow_duplicates,
                           reviewed=(str(reviewed_plan), reviewed.to_dict()) if reviewed is not None else None)
    check_flags = partial(check_address_flags, manifest, targets=target, excludes=exclude,
                          allow_destroy=_allow_destroy(allow_destroy))
    sys.exit(_locked_run(manifest, state_opts, lambda store, state: _apply(manifest, manifest, store, state, options,
                                                                           saved),
                         check_flags=check_flags))


@click.command("destroy")
@state_options
@_apply_options
def destroy_command(state_opts: StateOptions, auto_approve: bool, parallelism: int, wait: bool,
                    allow_destroy: tuple[str, ...], poll_interval: float, refresh_timeout: float,
                    settle_window: float, accept_missing: bool, allow_duplicates: bool) -> None:
    """Delete everything recorded in state (protected resources need --allow-destroy)."""
    manifest = load_manifest_or_exit(state_opts.manifest_file)
    # The planner with nothing desired plans the deletion of everything, so the protection
    # rules stay in one place.
    # The manifest's blocks do not apply: moves and imports name addresses that are no longer
    # declared, and a removed block is no permission here (--allow-destroy is).
    nothing = replace(manifest, projects={}, datasets={}, models={}, moved=(), removed=(), imports=())
    options = ApplyOptions(auto_approve, _run_config(parallelism, poll_interval, settle_window), False, allow_destroy,
                           destroying=True, refresh_timeout=refresh_timeout, accept_missing=accept_missing)
    check_flags = partial(check_address_flags, manifest, allow_destroy=_allow_destroy(allow_destroy))
    sys.exit(_locked_run(manifest, state_opts, lambda store, state: _apply(nothing, manifest, store, state, options,
                                                                           None),
                         check_flags=check_flags))


def _read_saved_plan(path: Path) -> Plan:
    try:
        return Plan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _err(f"{path}: not a readable bria plan ({exc})")
        sys.exit(exitcodes.ERROR)


def _locked_run(manifest: Manifest, state_opts: StateOptions,
                body: Callable[[StateStore, State], Coroutine[Any, Any, int]],
                check_flags: Callable[[State], None] | None = None) -> int:
    """Take the state lock, run `body(store, state)` (a coroutine), always unlock.

    `check_flags(state)` runs first, before any client exists: it exits 1 on a flag that
    names no resource, so a bad flag costs no API call and changes nothing."""
    with state_session(state_opts, manifest, lock=command_line()) as session:
        try:
            state = session.store.read() or State.empty()
            if check_flags is not None:
                check_flags(state)
            return run_async(body(session.store, state))
        except (KeyboardInterrupt, click.Abort) as exc:
            # Ctrl-C / SIGTERM before execution started (while refreshing, planning or at the
            # prompt): nothing was changed in the API.
            cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__
            _err(f"cancelled by {signal_name(cause)} before anything was applied")
            return exitcodes.CANCELLED


async def _apply(plan_manifest: Manifest, manifest: Manifest, store: StateStore, state: State, options: ApplyOptions,
                 saved: Plan | None) -> int:
    try:
        # The client's own bound on requests in flight follows the run's (RunConfig.parallelism).
        async with build_client(manifest, max_concurrency=options.run.parallelism) as client:
            endpoint = resolve_endpoint(manifest)
            live = None
            # Before anything changes: the API dialect, configured or detected (a stale saved
            # plan is refused below without a single call). The probe's list calls are the
            # refresh's too (cli/first_reads.py), and they are sent before the planner, the
            # executor and rich are imported, so that importing them overlaps their round trip.
            # (Not with leftover journal entries: resolving them may change what the lists say.)
            first_reads = FirstReads(client) if saved is None else None
            if first_reads is not None and not state.journal:
                await first_reads.start(probe_helper_paths(plan_manifest))
            _import_planning_modules()
            console = _console()
            if saved is not None:
                the_plan = await _check_saved(saved, manifest, state, client, store, options)
                if isinstance(the_plan, int):
                    return the_plan
            try:
                refused, note = await settle_dialect(client, plan_manifest, lists=first_reads)
                if note is not None:
                    console.print(clean_text(note), markup=False, highlight=False)
                if refused is not None:
                    _err(refused)
                    return exitcodes.ERROR
                if saved is None:
                    state, the_plan, live = await _make_plan(plan_manifest, state, client, store, options, console,
                                                             first_reads)
                    if isinstance(the_plan, int):
                        return the_plan
            finally:
                if first_reads is not None:
                    first_reads.cancel()     # list calls a refused run never read
            if the_plan.blocking_duplicates and not options.allow_duplicates:
                _err(duplicates_message(the_plan.blocking_duplicates))
                return exitcodes.REFUSED
            if the_plan.refused:
                _err("the plan destroys protected resources: " + ", ".join(c.address for c in the_plan.refused)
                     + " — to allow it, re-run with "
                     + " ".join(f"--allow-destroy {c.address}" for c in the_plan.refused))
                return exitcodes.REFUSED
            if state.endpoint != endpoint:
                state = replace(state, endpoint=endpoint)   # recorded by the run's first state write
            return await _execute(the_plan, manifest, state, client, store, options, console, live)
    except api_errors.ApiError as exc:
        _err(str(exc))
        return exitcodes.ERROR


async def _check_saved(saved: Plan, manifest: Manifest, state: State, client: BriaApi, store: StateStore,
                       options: ApplyOptions) -> Plan | int:
    from reconciler.executor import resolve_leftovers, stale_reason

    refusal = mismatch_message(state, None, resolve_endpoint(manifest), options.accept_missing)
    if refusal:
        _err(refusal)
        return exitcodes.ERROR
    reason = stale_reason(saved, state, manifest)
    if reason is None and state.journal:
        left = await resolve_leftovers(state, client=client, store=store, manifest=manifest, config=options.run)
        for note in left.notes:
            click.echo(clean_text(note))
        reason = "an interrupted apply left pending operations, now reconciled into state"
    if reason is not None:
        _err(f"the saved plan is stale: {reason}. Run `bria plan` again.")
        return exitcodes.STALE_PLAN
    return saved


async def _make_plan(manifest: Manifest, state: State, client: BriaApi, store: StateStore, options: ApplyOptions,
                     console: Any, first_reads: FirstReads | None = None
                     ) -> tuple[State, Plan | int, LiveView | None]:
    from reconciler.cli.refresh import absorb_into_state
    from reconciler.executor import resolve_leftovers
    from reconciler.executor.import_preview import ImportProblem, pending_import_records
    from reconciler.planner import PlanError, plan as make_plan
    from reconciler.refresh import refresh
    from reconciler.render.human import render_plan

    # The endpoint first: journal lookups against another endpoint could only mislead.
    refusal = mismatch_message(state, None, resolve_endpoint(manifest), options.accept_missing)
    if refusal:
        _err(refusal)
        return state, exitcodes.ERROR, None
    if first_reads is not None and state.journal:
        first_reads.shareable = False   # resolving leftovers may adopt or delete: list afresh
    left = await resolve_leftovers(state, client=client, store=store, manifest=manifest, config=options.run)
    state = left.state
    for note in left.notes:
        console.print(clean_text(note), markup=False)
    if left.undecided:
        _err(f"{len(left.undecided)} earlier call(s) could not be decided (above); nothing was planned, so nothing "
             f"is duplicated. Re-run to resolve them")
        return state, exitcodes.PARTIAL, None
    reads = first_reads if first_reads is not None and first_reads.shareable else client
    live = await within_deadline(refresh(reads, state), client.stats, options.refresh_timeout)
    if reads is first_reads and first_reads.answered_at("list_projects") is not None:
        live = replace(live, projects_listed=first_reads.answered_at("list_projects"))
    refusal = mismatch_message(state, live, resolve_endpoint(manifest), options.accept_missing)
    if refusal:
        _err(refusal)
        return state, exitcodes.ERROR, live
    state = await absorb_into_state(state, live, store)
    try:
        imported = await pending_import_records(manifest, state, client)
        the_plan = make_plan(manifest, state, live, targets=options.targets, excludes=options.excludes,
                             allow_destroy=_allow_destroy(options.allow_destroy), destroying=options.destroying,
                             allow_duplicates=options.allow_duplicates, imported=imported)
    except (PlanError, ValueError, ImportProblem) as exc:   # unknown --target/--exclude address, cycle, import
        _err(str(exc))
        return state, exitcodes.ERROR, live
    color = console.is_terminal and not console.no_color
    console.print(render_plan(the_plan.to_dict(), color=color, width=console.width), markup=False,
                  highlight=False)
    if options.reviewed is not None:
        from reconciler.cli.reviewed import plan_differences, refusal_message

        diff = plan_differences(options.reviewed[1], the_plan.to_dict())
        if diff:
            _err(refusal_message(options.reviewed[0], diff))
            return state, exitcodes.STALE_PLAN, live
        console.print(f"The plan matches the reviewed plan {options.reviewed[0]}.", markup=False, highlight=False)
    if not the_plan.has_changes:
        return state, exitcodes.OK, live
    if the_plan.refused or (the_plan.blocking_duplicates and not options.allow_duplicates):
        return state, the_plan, live
    # Like terraform: a plan with no changes needs no approval, so a non-interactive apply of
    # an up-to-date manifest succeeds; only when there is something to do must we ask.
    if not options.auto_approve and not sys.stdin.isatty():
        _err(NO_TTY_MESSAGE)
        return state, exitcodes.ERROR, live
    if not options.auto_approve and not _confirmed():
        _err("apply cancelled; nothing was changed")
        return state, exitcodes.ERROR, live
    return state, the_plan, live


def _confirmed() -> bool:
    answer = click.prompt("Do you want to perform these actions? Only 'yes' will be accepted", default="",
                          show_default=False)
    return answer.strip() == "yes"


async def _execute(the_plan: Plan, manifest: Manifest, state: State, client: BriaApi, store: StateStore,
                   options: ApplyOptions, console: Any, live: LiveView | None = None) -> int:
    from reconciler.executor import ConsoleReporter, apply_plan
    from reconciler.executor.summary import summary_lines

    cancel = asyncio.Event()
    _install_cancel_handlers(cancel)
    kill_after = os.environ.get(KILL_AFTER_CALLS_ENV)
    run = replace(options.run, kill_after_calls=int(kill_after) if kill_after else None)
    result = await apply_plan(the_plan, manifest, state, client=client, store=store, config=run, wait=options.wait,
                              reporter=ConsoleReporter(console), cancel_event=cancel, live=live)
    for line in summary_lines(result):
        console.print(line, markup=False, highlight=False)
    if options.wait and result.waited and not result.fatal:
        from reconciler.cli.sample import sample_after_training

        await sample_after_training(manifest, result.state, client, result.training)
    if result.fatal:
        lost = _lost_lock(store)
        if lost is not None:        # force-unlocked: another run may hold the lock now
            _err(lost)
            return exitcodes.LOCKED
        return exitcodes.ERROR
    if result.cancelled:
        return exitcodes.CANCELLED
    return exitcodes.OK if result.ok else exitcodes.PARTIAL


def _lost_lock(store: StateStore) -> str | None:
    """Why this run no longer holds its state lock, or None while it does."""
    try:
        store.check_lock()
    except LockLost as exc:
        return str(exc)
    except StateError:
        return None
    return None


def _install_cancel_handlers(cancel: asyncio.Event) -> None:
    """SIGINT/SIGTERM set the cancel flag: no new API calls, in-flight ones finish."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not cancel.is_set():
            click.echo("Cancelling: no new API calls; waiting for the ones in flight…", err=True)
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):   # not the main thread / not supported
            pass


@click.command("import")
@click.argument("address", required=False)
@click.argument("remote_id", required=False, type=click.IntRange(min=1))
@click.option("--discover", is_flag=True,
              help="Find every manifest resource in the account by name and parent, show the imports, then "
                   "record them (after confirmation) — the way to restore a lost state.")
@click.option("--auto-approve", is_flag=True, help="With --discover: do not ask for confirmation.")
@state_options
def import_command(address: str | None, remote_id: int | None, discover: bool, auto_approve: bool,
                   state_opts: StateOptions) -> None:
    """Record an existing remote object (project, dataset or model) in state as ADDRESS;
    or, with --discover, every object of the manifest found by name and parent."""
    from reconciler.cli.discover import discover_and_import
    from reconciler.executor.importing import ImportRefused, import_resource

    given = address is not None or remote_id is not None
    if (discover and given) or (not discover and (address is None or remote_id is None)):
        _err("give ADDRESS and REMOTE_ID, or --discover (alone)")
        sys.exit(exitcodes.ERROR)
    manifest = load_manifest_or_exit(state_opts.manifest_file)
    if not discover:
        require_address(address)

    async def body(store: StateStore, state: State) -> int:
        if discover:
            return await discover_and_import(manifest, store, state, auto_approve)
        try:
            async with build_client(manifest) as client:
                new_state = await import_resource(manifest, state, client, address, remote_id)
        except (ImportRefused, ValueError, api_errors.ApiError) as exc:
            _err(str(exc))
            return exitcodes.ERROR
        await asyncio.to_thread(store.write, new_state)
        click.echo(f"Imported {address} (remote id {remote_id}). Run `bria plan` to see what differs.")
        return exitcodes.OK

    sys.exit(_locked_run(manifest, state_opts, body))


COMMANDS = [apply_command, destroy_command, import_command]
