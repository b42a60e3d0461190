"""How every command finds, locks and releases the state: `@state_options` and `state_session`.

`@state_options` adds `-f/--file`, `--state-backend` and (for commands that lock)
`--lock-timeout`, and hands the command one `state_opts: StateOptions`. The backend override
is read from the flag, then env BRIA_STATE_BACKEND, then the manifest — in one place,
`reconciler.state.open_store`. `state_session(...)` opens the store, optionally takes the
lock, and always closes it; a state problem becomes `error: …` and exit 1, a held lock
exit 3 naming the holder.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import click

from reconciler.cli.exitcodes import ERROR, LOCKED
from reconciler.model import Manifest
from reconciler.state.store import StateError, StateLocked, StateStore

LOCKED_HINT = ("Wait for that run to finish, or pass --lock-timeout SECONDS to wait for it. A lock whose "
               "process died is released automatically; `bria force-unlock LOCK_ID` is for a holder that hangs.")


@dataclass(frozen=True)
class StateOptions:
    manifest_file: str = "bria.yaml"
    backend: str | None = None          # --state-backend (None: env BRIA_STATE_BACKEND, then the manifest)
    lock_timeout: float = 0.0           # seconds to wait for another run's lock


def state_options(command: Callable[..., Any] | None = None, *, lock: bool = True) -> Any:
    """`@state_options` (or `@state_options(lock=False)` for commands that read without the
    lock): the state flags, passed to the command as `state_opts: StateOptions`."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, manifest_file: str, state_backend: str | None, lock_timeout: float = 0.0,
                    **kwargs: Any) -> Any:
            return f(*args, state_opts=StateOptions(manifest_file, state_backend, lock_timeout), **kwargs)

        wrapped: Callable[..., Any] = wrapper
        if lock:
            wrapped = click.option("--lock-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True,
                                   metavar="SECONDS", help="Wait this long for another run's lock.")(wrapped)
        wrapped = click.option("--state-backend", type=click.Choice(["local", "postgres"]), default=None,
                               help="Use this backend instead of the manifest's (env BRIA_STATE_BACKEND).")(wrapped)
        return click.option("-f", "--file", "manifest_file", default="bria.yaml", show_default=True, metavar="FILE",
                            help="The manifest (its `state:` block names the state).")(wrapped)

    return decorate(command) if command is not None else decorate


def error(message: str) -> None:
    """The one way a command reports an error: `error: …` on stderr."""
    click.echo(f"error: {message}", err=True)


@dataclass(frozen=True)
class StateSession:
    manifest: Manifest
    store: StateStore


@contextmanager
def state_session(options: StateOptions, manifest: Manifest | None = None, *,
                  lock: str | None = None) -> Iterator[StateSession]:
    """The manifest's store, locked for command line `lock` when given, always closed.

    StateError (raised opening, locking or inside the block) prints `error: …` and exits 1;
    StateLocked exits 3 naming the holder. `manifest` defaults to loading `-f FILE`."""
    from reconciler.cli.common import load_manifest_or_exit
    from reconciler.state import open_store

    manifest = manifest if manifest is not None else load_manifest_or_exit(options.manifest_file)
    store: StateStore | None = None
    try:
        store = open_store(manifest.state, override_backend=options.backend, lock_timeout=options.lock_timeout)
        if lock is not None:
            store.lock(lock, timeout=options.lock_timeout)
        yield StateSession(manifest, store)
    except StateLocked as exc:
        error(f"{exc}\n{LOCKED_HINT}")
        raise SystemExit(LOCKED) from None
    except StateError as exc:
        error(str(exc) + _state_path_origin(manifest, options.backend))
        raise SystemExit(ERROR) from None
    finally:
        if store is not None:
            store.close()


def _state_path_origin(manifest: Manifest, backend_override: str | None) -> str:
    """For a local state problem: where the manifest sets the path (a line for the message)."""
    from reconciler.state import effective_backend

    config = manifest.state
    if config.path is None or effective_backend(config, backend_override) != "local":
        return ""
    if config.path_source is None:
        return f"\n(the default state path for {manifest.path.name}; set state.path in the manifest to change it)"
    where = config.path_source
    return f"\n(state.path is set at {where.file}:{where.line}:{where.col})"
