"""Async client for Bria's Tailored Generation API: typed calls, the error tree, retries and
adaptive pacing. See docs/architecture.md ("API client") for the contract."""

from reconciler.api import errors
from reconciler.api.bodies import ImageFileError
from reconciler.api.client import PRODUCTION_BASE_URL, USER_AGENT, BriaClient
from reconciler.api.errors import (
    ApiError,
    Conflict,
    InvalidToken,
    NotFound,
    OutcomeUnknown,
    PreconditionFailed,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    ValidationError,
)
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
