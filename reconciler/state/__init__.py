"""State: the format (`model`), the store interface (`store`) and its backends."""

from __future__ import annotations

import os

from reconciler.model import StateConfig
from reconciler.state.store import StateError, StateStore

BACKENDS = ("local", "postgres")
BACKEND_ENV = "BRIA_STATE_BACKEND"


def effective_backend(config: StateConfig, override_backend: str | None = None) -> str:
    """The backend a run uses: `override_backend` (the flag), env BRIA_STATE_BACKEND, the manifest."""
    return (override_backend or os.environ.get(BACKEND_ENV) or config.backend or "local").strip().lower()


def open_store(config: StateConfig, *, override_backend: str | None = None,
               lock_timeout: float = 0.0) -> StateStore:
    """The store the manifest's `state:` block names.

    The backend is, first found: `override_backend` (the `--state-backend` flag), env
    BRIA_STATE_BACKEND, `config.backend`. `lock_timeout` is how long `lock()` waits for
    another run's lock (it is the minimum: a caller may pass a longer timeout to lock()).
    Raises StateError for an unknown backend or missing settings; connects to nothing.
    """
    backend = effective_backend(config, override_backend)
    if backend == "local":
        from reconciler.state.local import LocalStateStore

        if config.path is None:
            raise StateError("the local state backend needs a state path (state.path in the manifest)")
        return LocalStateStore(config.path, lock_timeout=lock_timeout)
    if backend == "postgres":
        from reconciler.state.postgres import PostgresStateStore

        dsn = os.environ.get(config.dsn_env, "").strip()
        if not dsn:
            raise StateError(f"the postgres state backend reads its connection string from the environment "
                             f"variable {config.dsn_env}, which is not set")
        return PostgresStateStore(dsn, config.workspace, lock_timeout=lock_timeout)
    raise StateError(f"unknown state backend {backend!r} (expected one of: {', '.join(BACKENDS)})")
