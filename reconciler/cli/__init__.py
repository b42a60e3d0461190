"""The `bria` command line: one click group; each command lives in its own module.

This package is the one place where everything is wired together (manifest, store, client,
planner, executor, renderers). Exit codes are a stable contract: see `exitcodes.py`.
"""

from __future__ import annotations

import click

from reconciler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
