"""`bria state list | rm | push | pull` and `bria force-unlock`: look at and repair the state.

None of these call the API. `rm` and `push` change the state, so they hold the lock while
they do; `list` and `pull` only read (a store's read is always of a complete version).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.cli.common import require_address
from reconciler.cli.exitcodes import ERROR
from reconciler.cli.session import StateOptions, error, state_options, state_session
from reconciler.model import address, split_address


def _fail(message: str) -> None:
    error(message)
    raise SystemExit(ERROR)


# --- bria state ---------------------------------------------------------------------------


@click.group("state")
def state() -> None:
    """Inspect and repair the state (no API calls are made)."""


@state.command("list")
@state_options
def list_resources(state_opts: StateOptions) -> None:
    """Print every address in the state with its remote id, one per line (tab-separated).

    A dataset shows its current version's id, then its older versions; a model shows the
    models it superseded. Pending journal entries are reported on stderr.
    """
    with state_session(state_opts) as session:
        store = session.store
        current = store.read()
    if current is None:
        click.echo(f"No state yet in {store.describe()}.", err=True)
        return
    for addr in current.addresses():
        click.echo(_list_line(addr, current.get(addr)))
    if current.journal:
        click.echo(f"{len(current.journal)} pending operation(s) in the journal; the next plan/apply "
                   f"resolves them.", err=True)


def _list_line(addr: str, record: Any) -> str:
    kind, _ = split_address(addr)
    if kind == "dataset":
        ids = [str(v.remote_id) for v in record.versions]
        line = f"{addr}\t{ids[-1] if ids else '-'}"
        return line + (f"\tolder versions: {', '.join(ids[:-1])}" if len(ids) > 1 else "")
    line = f"{addr}\t{record.remote_id}"
    if kind == "model" and record.superseded:
        line += f"\tsuperseded: {', '.join(str(s.remote_id) for s in record.superseded)}"
    return line


@state.command("rm")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDR...")
@state_options
def remove(addresses: tuple[str, ...], state_opts: StateOptions) -> None:
    """Forget resources: remove ADDR from the state without touching the API.

    The remote objects keep existing; the next plan proposes creating them again unless
    they are imported or removed from the manifest.
    """
    for addr in addresses:
        require_address(addr)
    with state_session(state_opts) as session:
        store = session.store
        store.lock(f"bria state rm {' '.join(addresses)}")
        current = store.read()
        missing = [a for a in addresses if current is None or current.get(a) is None]
        if missing or current is None:
            _fail(f"not in the state: {', '.join(missing)} ({store.describe()})")
            return
        updated = current
        for addr in addresses:
            updated = updated.with_resource(addr, None)
            for entry in (e for e in updated.journal if e.address == addr):
                updated = updated.without_journal_entry(entry.id)
        written = store.write(updated)
    for addr in addresses:
        record = current.get(addr)
        click.echo(f"Removed {addr} (remote id {_remote_ids(record)}) from the state; the API was not touched.")
    for warning in _dangling_references(written, addresses):
        click.echo(f"Warning: {warning}", err=True)


def _remote_ids(record: Any) -> str:
    if hasattr(record, "versions"):
        return ", ".join(str(v.remote_id) for v in record.versions) or "-"
    return str(record.remote_id)


def _dangling_references(current: Any, removed: tuple[str, ...]) -> list[str]:
    gone = set(removed)
    found = [f"{address('dataset', k)} still belongs to {address('project', d.project)}"
             for k, d in sorted(current.datasets.items()) if address("project", d.project) in gone]
    found += [f"{address('model', k)} is still trained on {address('dataset', m.dataset)}"
              for k, m in sorted(current.models.items()) if address("dataset", m.dataset) in gone]
    return found


@state.command("push")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE")
@click.option("--force", is_flag=True, help="Push even with another lineage or a serial not newer than the backend's.")
@state_options
def push(source: Path, force: bool, state_opts: StateOptions) -> None:
    """Write a state file into the configured backend (e.g. to move local state to postgres).

    Refused when the backend holds a different lineage, or a serial at least as new as the
    file's, unless --force. The stored serial always moves forward.
    """
    from reconciler.state.local import LocalStateStore

    if not source.is_file():
        _fail(f"{source}: no such state file")
    with state_session(state_opts) as session:
        store = session.store
        pushed = LocalStateStore(source).read()
        assert pushed is not None
        store.lock(f"bria state push {source}")
        current = store.read()
        if current is not None and not force:
            if current.lineage != pushed.lineage:
                _fail(f"{store.describe()} holds lineage {current.lineage}, {source} has {pushed.lineage}: "
                      f"they are different states. Use --force to replace it.")
            if pushed.serial <= current.serial:
                _fail(f"{source} has serial {pushed.serial}, not newer than {current.serial} in "
                      f"{store.describe()}. Use --force to replace it.")
        written = store.write(pushed)
    click.echo(f"Pushed {source} (lineage {written.lineage}) to {store.describe()}: now serial {written.serial}.")


@state.command("pull")
@state_options
def pull(state_opts: StateOptions) -> None:
    """Print the backend's state as JSON on stdout (the same text a local state file holds)."""
    from reconciler.state.codec import encode_state

    with state_session(state_opts) as session:
        store = session.store
        current = store.read()
    if current is None:
        _fail(f"no state stored in {store.describe()}")
        return
    click.echo(encode_state(current), nl=False)


# --- bria force-unlock ----------------------------------------------------------------------


@click.command("force-unlock")
@click.argument("lock_id")
@state_options
def force_unlock(lock_id: str, state_opts: StateOptions) -> None:
    """Release the state lock LOCK_ID (the id a blocked run printed).

    Local state: the lock is a kernel lock that dies with its process, so it is never stuck;
    this only clears holder info left by a process that is provably gone, and refuses while
    the holder runs. PostgreSQL: ends the holder's database session (which releases its
    lock and makes its further writes fail), only if LOCK_ID is the current holder's.
    """
    with state_session(state_opts) as session:
        store = session.store
        store.force_unlock(lock_id)
    click.echo(f"Unlocked {store.describe()} (lock {lock_id}).")


COMMANDS = [state, force_unlock]


# `bria state mv` lives in its own module (moves are shared with the manifest's moved blocks).
from reconciler.cli.state_mv import move_command  # noqa: E402

state.add_command(move_command)
