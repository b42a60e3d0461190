"""`bria validate`: check a manifest and its images without touching the API or the state."""

from __future__ import annotations

import click

from reconciler.cli.common import load_manifest_or_exit
from reconciler.model import Manifest


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(manifest: Manifest) -> str:
    """`1 project, 2 datasets (31 images), 2 models`."""
    images = sum(len(d.images) for d in manifest.datasets.values())
    return (f"{_count(len(manifest.projects), 'project')}, "
            f"{_count(len(manifest.datasets), 'dataset')} ({_count(images, 'image')}), "
            f"{_count(len(manifest.models), 'model')}")


@click.command("validate")
@click.option("-f", "--file", "manifest_file", default="bria.yaml", show_default=True,
              metavar="FILE", help="The manifest to check.")
def validate(manifest_file: str) -> None:
    """Check the manifest and its images; report every problem at once.

    Exit 0 when valid (warnings are printed but do not fail), 1 otherwise. No API call is
    made and the state is not read.
    """
    manifest = load_manifest_or_exit(manifest_file)
    click.echo(f"{manifest_file}: valid — {summary(manifest)}")


COMMANDS = [validate]
