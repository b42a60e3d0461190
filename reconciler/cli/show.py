"""`bria show [ADDR]`: what the state records — remote ids, dataset versions, image counts,
model status and history. Reads the state only (no lock, no API call), like `terraform show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import fail, load_manifest_or_exit, require_address
from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.model import split_address
from reconciler.state.model import DatasetRecord, ModelRecord, ProjectRecord, State


@click.command("show")
@click.argument("addr", required=False, metavar="[ADDR]")
@click.option("--format", "fmt", type=click.Choice(["human", "json", "markdown"]), default="human", show_default=True,
              help="markdown: saved plan files only.")
@state_options(lock=False)
@click.option("--refresh", is_flag=True, help="Read the live statuses from the API into the state first.")
def show_command(addr: str | None, state_opts: StateOptions, fmt: str, refresh: bool) -> None:
    """Show the state: every resource, or the one at ADDR (e.g. model.luna_max).

    ADDR may instead be a saved plan file (`bria plan --out FILE`): it is shown like `bria plan`."""
    from reconciler.cli.refresh import refreshed_line

    if addr is not None and Path(addr).is_file():
        from reconciler.cli.planfile import show_plan_file

        show_plan_file(addr, fmt)
        return
    if fmt == "markdown":
        fail("--format markdown shows a saved plan file; the state has human and json views", exitcodes.ERROR)
    manifest = load_manifest_or_exit(state_opts.manifest_file)
    if refresh:
        from reconciler.cli.refresh import refresh_state

        refresh_state(manifest, state_opts)
    with state_session(state_opts, manifest) as session:   # read without the lock, then closed
        store = session.store
        state = store.read() or State.empty()
    addresses = state.addresses()
    if addr is not None:
        require_address(addr)
        if state.get(addr) is None:
            fail(f"{addr} is not in the state ({store.describe()})", exitcodes.ERROR)
        addresses = [addr]
    if fmt == "json":
        resources = state.to_dict()["resources"]
        click.echo(json.dumps({"lineage": state.lineage, "serial": state.serial, "refreshed_at": state.refreshed_at,
                               "resources": {a: resources[a] for a in addresses}}, indent=2))
        return
    if not addresses:
        click.echo(f"The state is empty ({store.describe()}).")
        return
    click.echo("\n\n".join(describe(a, state.get(a)) for a in addresses))
    click.echo("\n" + refreshed_line(state))


def describe(addr: str, record: Any) -> str:
    """A few lines about one resource, for people."""
    kind, _ = split_address(addr)
    if kind == "project":
        return _project(addr, record)
    if kind == "dataset":
        return _dataset(addr, record)
    return _model(addr, record)


def _project(addr: str, r: ProjectRecord) -> str:
    a = r.applied
    lines = [f"{addr}  (remote #{r.remote_id})", f"  name: {a.get('name')!r}",
             f"  ip: {a.get('ip_type')} / {a.get('ip_medium')}"]
    if a.get("ip_name"):
        lines.append(f"  ip_name: {a.get('ip_name')!r}")
    return "\n".join(lines)


def _dataset(addr: str, r: DatasetRecord) -> str:
    current = r.current
    if current is None:
        return f"{addr}  (no version recorded)"
    manual = sum(1 for i in current.images.values() if i.caption_source == "manual")
    lines = [f"{addr}  (remote #{current.remote_id}, project.{r.project})",
             f"  name: {current.name!r}", f"  status: {current.status}",
             f"  images: {len(current.images)} ({manual} with a manual caption)",
             f"  visual_schema: {current.visual_schema}" if current.visual_schema is not None
             else f"  caption_prefix: {current.caption_prefix!r}"]
    if r.pinned_schema:
        lines.append(f"  pinned generated visual schema: {r.pinned_schema}")
    if r.pinned_prefix:
        lines.append(f"  pinned generated prefix: {r.pinned_prefix!r}")
    if len(r.versions) > 1:
        older = ", ".join(f"#{v.remote_id} ({v.status}, {len(v.images)} images)" for v in r.versions[:-1])
        lines.append(f"  versions: {len(r.versions)} (older: {older})")
    return "\n".join(lines)


def _model(addr: str, r: ModelRecord) -> str:
    lines = [f"{addr}  (remote #{r.remote_id}, dataset.{r.dataset} version #{r.dataset_remote_id})",
             f"  name: {r.name!r}", f"  training: {r.training_version}, {r.training_mode}",
             f"  status: {r.status}"]
    if r.training_parameters:
        lines.append(f"  parameters: {json.dumps(dict(r.training_parameters), sort_keys=True)}")
    for s in r.superseded:
        lines.append(f"  superseded: #{s.remote_id} ({s.training_version}, {s.status}, dataset version "
                     f"#{s.dataset_remote_id}) — {s.reason}")
    return "\n".join(lines)
