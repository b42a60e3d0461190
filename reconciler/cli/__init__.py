"""The `bria` command line: one click group; each command lives in its own module.

This package is the one place where everything is wired together (manifest, store, client,
planner, executor, renderers). Exit codes are a stable contract: see `exitcodes.py`.
"""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.cli.exitcodes import CANCELLED, ERROR


class _BriaGroup(click.Group):
    """A click group whose usage errors exit 1, not click's default 2.

    Exit code 2 means "changes present" for `plan --detailed-exitcode`; a bad flag must never
    be mistaken for it by a pipeline. Bad flags are bad input: message, exit 1, nothing done.
    """

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.UsageError as exc:
            exc.show()
            sys.exit(ERROR)
        except click.exceptions.Abort as exc:
            click.echo("Aborted.", err=True)
            interrupted = isinstance(exc.__cause__, KeyboardInterrupt)
            sys.exit(CANCELLED if interrupted else ERROR)
        except click.exceptions.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code if exc.exit_code not in (0, 2) else ERROR)
        # Commands exit through sys.exit/ctx.exit; a plain return is success.
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_BriaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="bria")
def main() -> None:
    """Declarative, Terraform-style reconciler for Bria's Tailored Generation API.

    Keep projects, datasets and models in a YAML manifest; `bria plan` shows what would
    change, `bria apply` does it. The API token comes from BRIA_API_TOKEN only.
    """


def _register() -> None:
    # Imported here so that each command module can import `main`-free helpers freely.
    from reconciler.cli import apply, emulator, plan, state, validate

    for module in (validate, plan, apply, state, emulator):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
