"""`bria plan` (what would change) and `bria show` (what the state holds).

Plan never writes state: it takes the lock while it reads the state and refreshes, like
terraform, so it never plans against a state an apply is halfway through changing.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import (PLANNING_MODULES, REQUEST_MODULES, build_client, check_address_flags,
                                   command_line, fail, import_soon, load_manifest_or_exit, resolve_endpoint,
                                   run_async)
from reconciler.cli.safety import account_options, mismatch_message
from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.cli.show import show_command
from reconciler.cli.waiting import DEFAULT_REFRESH_TIMEOUT, refresh_timeout_option, within_deadline
from reconciler.model import LiveView, Manifest, Plan
from reconciler.state.model import State

FORMATS = ("human", "json", "markdown", "html")


@click.command("plan")
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="Save the plan (JSON) for `bria apply PLAN`; with --format html, the page.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="human", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when there are none.")
@click.option("--target", "targets", multiple=True, metavar="ADDR", help="Only this resource and what it needs.")
@click.option("--exclude", "excludes", multiple=True, metavar="ADDR", help="Leave out this resource and its dependents.")
@click.option("--no-refresh", is_flag=True, help="Trust the state; do not read the live API.")
@click.option("--allow-destroy", "allow_destroy", multiple=True, metavar="ADDR|all",
              help="Allow destroying this protected resource (or all).")
@state_options
@refresh_timeout_option
@account_options
def plan_command(state_opts: StateOptions, out_file: str | None, fmt: str, detailed_exitcode: bool,
                 targets: tuple[str, ...], excludes: tuple[str, ...], no_refresh: bool,
                 allow_destroy: tuple[str, ...], refresh_timeout: float, accept_missing: bool,
                 allow_duplicates: bool) -> None:
    """Show what `bria apply` would do, in order, with reasons.

    Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error (including a state
    that does not match the account), 2 changes present (--detailed-exitcode), 3 state
    locked, 6 the plan holds refused changes (protected resources, or duplicates of
    untracked objects).
    """
    # A plan makes hundreds of thousands of objects (a 5,000-image manifest, its state and
    # plan) but next to no cyclic garbage: the cyclic collector stays off while it runs, as
    # `load_manifest` keeps it off while loading (its collections cost a cold 5,000-image plan
    # tens of ms and found next to nothing), and is restored after (the command may run
    # in-process, e.g. under click's test runner).
    collecting = gc.isenabled()
    gc.disable()
    try:
        _plan(state_opts, out_file, fmt, detailed_exitcode, targets, excludes, no_refresh, allow_destroy,
              refresh_timeout, accept_missing, allow_duplicates)
    finally:
        if collecting:
            gc.enable()


def _plan(state_opts: StateOptions, out_file: str | None, fmt: str, detailed_exitcode: bool,
          targets: tuple[str, ...], excludes: tuple[str, ...], no_refresh: bool, allow_destroy: tuple[str, ...],
          refresh_timeout: float, accept_missing: bool, allow_duplicates: bool) -> None:
    manifest = load_manifest_or_exit(state_opts.manifest_file,
                                     meanwhile=import_soon(*REQUEST_MODULES, *PLANNING_MODULES))
    if out_file:
        check_out_path(Path(out_file), manifest, html=fmt == "html")
    allowed = "all" if "all" in allow_destroy else frozenset(allow_destroy)
    result = compute_plan(manifest, targets=targets, excludes=excludes, refresh_live=not no_refresh,
                          allow_destroy=allowed, state_opts=state_opts, refresh_timeout=refresh_timeout,
                          accept_missing=accept_missing, allow_duplicates=allow_duplicates)
    plan_dict = result.to_dict()
    if fmt == "html":
        emit_html(manifest, plan_dict, out_file, state_opts)
    elif out_file:
        try:
            save_plan(plan_dict, Path(out_file))
        except OSError as exc:
            fail(f"--out {out_file}: cannot write the plan: {exc.strerror or exc}", exitcodes.ERROR)
    if fmt != "html":
        click.echo(render(plan_dict, fmt, manifest), nl=False)
    if out_file and fmt == "human":
        click.echo(f"\nSaved the plan to {out_file}. Apply exactly this plan with: bria apply {out_file}")
    if result.refused or result.blocking_duplicates:
        raise SystemExit(exitcodes.REFUSED)
    if detailed_exitcode and result.has_changes:
        raise SystemExit(exitcodes.CHANGES_PRESENT)


def compute_plan(manifest: Manifest, *, targets=(), excludes=(), refresh_live: bool = True,
                 allow_destroy=frozenset(), state_opts: StateOptions = StateOptions(),
                 refresh_timeout: float = DEFAULT_REFRESH_TIMEOUT, accept_missing: bool = False,
                 allow_duplicates: bool = False) -> Plan:
    """Lock the state, read it, refresh (unless told not to) and plan; exits on errors."""
    from reconciler.planner import PlanError, plan

    with state_session(state_opts, manifest, lock=command_line()) as session:
        stored = session.store.read()
        state = stored or State.empty()
        check_address_flags(manifest, state, targets=targets, excludes=excludes, allow_destroy=allow_destroy)
        live, imported = fetch_live(manifest, state, refresh_live, refresh_timeout)
        refusal = mismatch_message(state, live, resolve_endpoint(manifest), accept_missing)
        if refusal:
            fail(refusal, exitcodes.ERROR)
        try:
            result = plan(manifest, state, live, targets=targets, excludes=excludes, allow_destroy=allow_destroy,
                          allow_duplicates=allow_duplicates, imported=imported)
        except PlanError as exc:
            fail(str(exc), exitcodes.ERROR)
    # No state yet: the plan's lineage is unknown until the first apply writes one.
    return result if stored else dataclasses.replace(result, state_lineage=None)


def emit_html(manifest: Manifest, plan_dict: dict, out_file: str | None, state_opts: StateOptions) -> None:
    """The HTML page to `out_file` (then one line saying where and its size) or stdout."""
    from reconciler.cli.plan_html import render_html, write_page

    with state_session(state_opts, manifest, lock=command_line()) as session:
        stored = session.store.read()
    page = render_html(manifest, stored or State.empty(), plan_dict)
    if not out_file:
        click.echo(page, nl=False)
        return
    try:
        write_page(page, Path(out_file))
    except OSError as exc:
        fail(f"--out {out_file}: cannot write the page: {exc.strerror or exc}", exitcodes.ERROR)
    from reconciler.render.symbols import has_changes, no_changes_line, summary_line

    click.echo(summary_line(plan_dict) if has_changes(plan_dict) else no_changes_line(plan_dict))
    click.echo(f"Wrote {out_file} ({len(page.encode('utf-8')):,} bytes).")


def check_out_path(out: Path, manifest: Manifest, html: bool = False) -> None:
    """Refuse a --out that would overwrite something that is not a saved plan: the manifest,
    the state (or its backup/lock), or any existing non-empty file that is not a bria plan
    (with `html`: not a page bria wrote). An empty file (e.g. from mktemp) is fine."""
    target = out.resolve()
    protected = {manifest.path.resolve()}
    if manifest.state.path is not None:
        state_path = manifest.state.path.resolve()
        protected |= {state_path, state_path.with_name(state_path.name + ".backup"),
                      state_path.with_name(state_path.name + ".lock")}
    if html:
        from reconciler.cli.plan_html import is_html_page

        is_ours = is_html_page
    else:
        is_ours = _is_saved_plan
    if target in protected or (target.is_file() and not is_ours(target)):
        fail(f"--out {out}: refusing to overwrite a file that is not a saved bria plan "
             f"(choose another path)", exitcodes.ERROR)


def _is_saved_plan(path: Path) -> bool:
    try:
        if path.stat().st_size == 0:
            return True
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format_version" in data and "changes" in data


def fetch_live(manifest: Manifest, state: State, refresh_live: bool = True,
               deadline: float = DEFAULT_REFRESH_TIMEOUT) -> tuple[LiveView | None, dict]:
    """Refresh (unless told not to) within `deadline` seconds, and read the objects of pending
    `import` blocks, through a client built for the manifest; API problems and impossible
    imports exit 1."""
    from reconciler.api import ApiError, TransportError
    from reconciler.executor.import_preview import ImportProblem, pending_import_records
    from reconciler.refresh import refresh

    async def _read() -> tuple[LiveView | None, dict]:
        async with build_client(manifest) as client:
            live = (await within_deadline(refresh(client, state), client.stats, deadline)
                    if refresh_live else None)
            return live, await pending_import_records(manifest, state, client)

    if not refresh_live and not manifest.imports:
        return None, {}
    try:
        return run_async(_read())
    except ImportProblem as exc:
        fail(str(exc), exitcodes.ERROR)
    except (ApiError, TransportError) as exc:
        fail(f"could not read the live API: {exc}", exitcodes.ERROR)


def render(plan_dict: dict, fmt: str, manifest: Manifest | None = None) -> str:
    from reconciler import render as views

    if fmt == "human":
        return views.human.render_plan(plan_dict, color=views.should_color(sys.stdout),
                                       width=shutil.get_terminal_size((100, 24)).columns)
    if fmt == "markdown" and manifest is not None:
        from reconciler.cli.github_links import pr_image_links

        return views.render_plan(plan_dict, fmt, image_links=pr_image_links(manifest, plan_dict))
    return views.render_plan(plan_dict, fmt)


def save_plan(plan_dict: dict, path: Path) -> None:
    """Write the JSON plan atomically: a reader never sees half a plan."""
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(plan_dict, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


COMMANDS = [plan_command, show_command]
