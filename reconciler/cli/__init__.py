"""The `bria` command line: one click group; each command lives in its own module.

This package is the one place where everything is wired together (manifest, store, client,
planner, executor, renderers). Exit codes are a stable contract: see `exitcodes.py`.
"""

from __future__ import annotations

import atexit
import gc
import sys

import click

from reconciler import __version__
from reconciler.cli import interrupts
from reconciler.cli.exitcodes import CANCELLED, ERROR


def _cancelled(exc: BaseException) -> None:
    """Exit 8 for a SIGINT/SIGTERM that reached the top: the command stopped where it was,
    before the executor's calls (those stop gracefully and report for themselves)."""
    click.echo(f"error: cancelled by {interrupts.signal_name(exc)}; no API change was in progress "
               "(re-run the command)", err=True)
    sys.exit(CANCELLED)


def _skip_final_collections() -> None:
    """At interpreter exit, move every object to the collector's permanent generation
    (`gc.freeze`) before the modules are torn down. Tearing down ~450 modules otherwise runs
    the cyclic collector over everything the run ever made, again and again: ~40 ms of CPU
    and as much wall time at the end of every command, for memory the process hands back
    anyway. atexit handlers, module teardown and the closing of files all still run; what
    is skipped is collecting cyclic garbage left at exit, whose finalizers Python never
    promises to run. Registered once per process (in-process callers, e.g. tests, run
    commands many times)."""
    global _final_collections_skipped
    if not _final_collections_skipped:
        atexit.register(gc.freeze)
        _final_collections_skipped = True


_final_collections_skipped = False


class _BriaGroup(click.Group):
    """A click group whose usage errors exit 1, not click's default 2.

    Exit code 2 means "changes present" for `plan --detailed-exitcode`; a bad flag must never
    be mistaken for it by a pipeline. Bad flags are bad input: message, exit 1, nothing done.
    """

    def main(self, *args, **kwargs):  # type: ignore[override]
        _skip_final_collections()
        # SIGINT/SIGTERM from here on end as exit 8 with a message (see interrupts.py).
        interrupts.install()
        try:
            self._main(*args, **kwargs)
        except KeyboardInterrupt as exc:       # a signal while a click error was being handled
            _cancelled(exc)
        finally:
            interrupts.uninstall()

    def _main(self, *args, **kwargs) -> None:
        kwargs["standalone_mode"] = False
        if args:                                # main(["plan", ...]) as well as main(args=[...])
            kwargs["args"], args = args[0], args[1:]
        _take_no_color(kwargs)
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.UsageError as exc:
            exc.show()
            sys.exit(ERROR)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                _cancelled(exc.__cause__)
            click.echo("Aborted.", err=True)
            sys.exit(ERROR)
        except click.exceptions.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code if exc.exit_code not in (0, 2) else ERROR)
        # Commands exit through sys.exit/ctx.exit; a plain return is success.
        sys.exit(result if isinstance(result, int) else 0)

    # Command modules are imported when their command is used, so that `bria plan` does not
    # pay for the executor, rich and the emulator's ASGI stack (~0.1 s of every run), and
    # `bria --help` imports none of them: it lists the names and summaries in _COMMANDS.
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _register(_COMMANDS[cmd_name][0] if cmd_name in _COMMANDS else None)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMANDS) | set(self.commands))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [n for n in self.list_commands(ctx) if n in _COMMANDS or not self.commands[n].hidden]
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, self.commands[n].get_short_help_str(limit) if n in self.commands
                 else click.Command(n, help=_COMMANDS[n][1]).get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _take_no_color(kwargs: dict) -> None:
    """`--no-color` anywhere on the command line (`bria --no-color plan`, `bria plan --no-color`,
    like terraform's -no-color): no ANSI codes and no live progress bars, as with NO_COLOR=1.
    `--workspace NAME` likewise (cli/workspace.py)."""
    import os

    args = kwargs.get("args")
    if args is None:
        args = kwargs["args"] = sys.argv[1:]
    if "--no-color" in args:
        os.environ["NO_COLOR"] = "1"
        kwargs["args"] = args = [a for a in args if a != "--no-color"]
    from reconciler.cli.workspace import take_workspace_arg

    kwargs["args"] = take_workspace_arg(list(args))


@click.group(cls=_BriaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="bria")
@click.option("--no-color", is_flag=True, help="No colours or live progress bars (also: env NO_COLOR=1; "
              "accepted after the command name too).")
@click.option("--workspace", metavar="NAME", help="The state workspace (environment), e.g. staging or prod "
              "(also: env BRIA_WORKSPACE; accepted after the command name too).")
def main(no_color: bool = False, workspace: str | None = None) -> None:
    """Declarative, Terraform-style reconciler for Bria's Tailored Generation API.

    Keep projects, datasets and models in a YAML manifest; `bria plan` shows what would
    change, `bria apply` does it. The API token comes from BRIA_API_TOKEN only.
    Set BRIA_LOG=debug (or info, warning) for diagnostic logs on stderr; tokens are redacted.
    """
    from reconciler.cli.logs import configure_from_env

    problem = configure_from_env()
    if problem:
        click.echo(f"warning: {problem}", err=True)


# Command name → (the module reconciler.cli.MODULE whose COMMANDS list defines it, the first
# paragraph of its help, as `bria --help` shows it). tests/test_cli_lazy.py checks both
# against the commands. A command missing here still works: an unknown name registers every
# module before giving up.
_COMMANDS = {
    "apply": ("apply", "Make the API match the manifest (or carry out a saved PLAN_FILE)."),
    "captions": ("captions", "Captions in the repository: pull the API's captions (automatic ones too) as sidecars."),
    "destroy": ("apply", "Delete everything recorded in state (protected resources need --allow-destroy)."),
    "emulator": ("emulator", "A local emulator of Bria's Tailored Generation API (for tests, demos and CI)."),
    "force-unlock": ("state", "Release the state lock LOCK_ID (the id a blocked run printed)."),
    "import": ("apply", "Record an existing remote object (project, dataset or model) in state as ADDRESS; "
                        "or, with --discover, every object of the manifest found by name and parent."),
    "output": ("output", "Per model: the newest model and the newest Completed one (id, status, generation prefix)."),
    "plan": ("plan", "Show what `bria apply` would do, in order, with reasons."),
    "prune": ("prune", "Delete superseded models (older models kept when an address was replaced)."),
    "refresh": ("refresh", "Update the state from the API (statuses, generation prefixes); the API is not changed."),
    "probe": ("probe", "Which API dialect the account speaks (legacy, mixed or fibo), whether the token works, "
                       "and what rate limiting the calls met."),
    "sample": ("sample", "Generate sample images with trained models (all models with a samples: block, or ADDR…)."),
    "show": ("plan", "Show the state: every resource, or the one at ADDR (e.g. model.luna_max)."),
    "state": ("state", "Inspect and repair the state (no API calls are made)."),
    "validate": ("validate", "Check the manifest and its images; report every problem at once."),
    "wait": ("wait", "Follow training of ADDR (default: every model in state) until each one ends."),
}


def _register(module_name: str | None) -> None:
    """Add the commands of one command module (None: of all of them) to `main`."""
    import importlib

    for name in [module_name] if module_name else sorted({module for module, _ in _COMMANDS.values()}):
        for command in importlib.import_module(f"reconciler.cli.{name}").COMMANDS:
            main.add_command(command)
