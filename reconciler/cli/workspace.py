"""Workspaces: one manifest, several environments (staging, prod), each with its own state.

The workspace comes from `--workspace NAME` (accepted anywhere on the command line, like
`--no-color`), else env BRIA_WORKSPACE, else the manifest (`state.workspace`, default
"default"). PostgreSQL: it is the row's workspace. Local state: `state/<stem>.json` for the
default workspace (unchanged), `state/<stem>.<NAME>.json` for another; the embedded
emulator's data file follows the same rule, so each workspace is a separate account.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:       # annotations only: `bria --help` parses --workspace and needs no model (~18 ms)
    from reconciler.model import Manifest

WORKSPACE_ENV = "BRIA_WORKSPACE"
DEFAULT = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def take_workspace_arg(args: list[str]) -> list[str]:
    """Remove `--workspace NAME` / `--workspace=NAME` from `args`, exporting it as BRIA_WORKSPACE
    (so every command honours it without an option of its own); returns the other args."""
    rest, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--workspace" and i + 1 < len(args):
            os.environ[WORKSPACE_ENV] = args[i + 1]
            i += 2
            continue
        if arg.startswith("--workspace="):
            os.environ[WORKSPACE_ENV] = arg.partition("=")[2]
        else:
            rest.append(arg)
        i += 1
    return rest


def with_workspace(manifest: Manifest) -> Manifest:
    """The manifest with the chosen workspace applied to its state settings; ValueError for a
    name that cannot be one (it becomes part of a file name)."""
    name = os.environ.get(WORKSPACE_ENV, "").strip()
    if not name:
        return manifest
    if not _NAME.match(name):
        raise ValueError(f"workspace {name!r}: use letters, digits, '-' and '_' (at most 63, starting "
                         "with a letter or digit)")
    path = manifest.state.path
    if path is not None and name != DEFAULT:
        path = path.with_name(f"{path.stem}.{name}{path.suffix}")
    return replace(manifest, state=replace(manifest.state, workspace=name, path=path))


def workspace_suffix(manifest: Manifest) -> str:
    """".NAME" for a workspace other than the default one, else "" (for files kept per workspace)."""
    name = manifest.state.workspace
    return "" if not os.environ.get(WORKSPACE_ENV) or name == DEFAULT else f".{name}"
