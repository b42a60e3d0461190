"""Async client for Bria's Tailored Generation API: typed calls, the error tree, retries and
adaptive pacing. See docs/architecture.md ("API client") for the contract."""

import sys

# httpx's package import also imports its command-line client (httpx._main: rich, pygments,
# click; ~50 ms of CPU on every `bria plan`/`apply`) unless that import fails, in which case
# httpx installs its own "dependencies not installed" stub. bria never runs httpx's CLI, so
# it takes that documented path: a None entry in sys.modules makes the import fail.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

# The names below are imported when first used (PEP 562): `from reconciler.api import errors`
# must not import the client and httpx with it, so that `bria apply` checks its manifest
# while httpx is imported beside it (cli/common.py, REQUEST_MODULES), not before.
_EXPORTS = {
    "ImageChanged": "bodies", "ImageFileError": "bodies",
    "PRODUCTION_BASE_URL": "client", "USER_AGENT": "client", "BriaClient": "client",
    **{name: "errors" for name in ("ApiError", "Conflict", "InvalidToken", "NotFound", "OutcomeUnknown",
                                   "PreconditionFailed", "RateLimited", "ServerError", "TransportError",
                                   "Unauthorized", "ValidationError")},
    "AdaptivePacer": "pacing", "PacingConfig": "pacing",
    "ClientStats": "transport", "EndpointStats": "transport", "RetryPolicy": "transport",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from reconciler.api import errors
    from reconciler.api.bodies import ImageChanged, ImageFileError
    from reconciler.api.client import PRODUCTION_BASE_URL, USER_AGENT, BriaClient
    from reconciler.api.errors import (ApiError, Conflict, InvalidToken, NotFound, OutcomeUnknown, PreconditionFailed,
                                       RateLimited, ServerError, TransportError, Unauthorized, ValidationError)
    from reconciler.api.pacing import AdaptivePacer, PacingConfig
    from reconciler.api.transport import ClientStats, EndpointStats, RetryPolicy

__all__ = [
    "PRODUCTION_BASE_URL",
    "USER_AGENT",
    "AdaptivePacer",
    "ApiError",
    "BriaClient",
    "ClientStats",
    "Conflict",
    "EndpointStats",
    "ImageChanged",
    "ImageFileError",
    "InvalidToken",
    "NotFound",
    "OutcomeUnknown",
    "PacingConfig",
    "PreconditionFailed",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "ValidationError",
    "errors",
]
