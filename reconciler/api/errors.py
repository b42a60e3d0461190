"""The API client's error tree, and building an error from any error-response shape.

Every error the client raises is an `ApiError`, so callers may catch that one type.
HTTP errors carry the status; network faults are `TransportError` (status None).

`outcome_unknown` is True when a non-idempotent call may have taken effect on the server
although no success response came back (a lost response, or a 5xx that may have committed).
The API has no idempotency key, so the client never retries such a call; the reconciler's
journal resolves it by looking the object up.

The client redacts the token from response bodies before they reach this module, so an
error's message never contains it (a server may echo the token it rejected).
"""

from __future__ import annotations

import json
from typing import Any

_MAX_MESSAGE_CHARS = 500


class ApiError(Exception):
    """A call to the API failed. `status` is None for network faults."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        outcome_unknown: bool = False,
    ) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.outcome_unknown = outcome_unknown
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}".strip()
        code = f"HTTP {self.status}" if self.status is not None else type(self).__name__
        text = f"{where}: {code}" if where else code
        return f"{text}: {self.message}" if self.message else text


class Unauthorized(ApiError):
    """401 (missing or unknown token) or 403 (quota, access)."""


class NotFound(ApiError):
    """404: no such object in the token's organisation."""


class Conflict(ApiError):
    """409: the object's state forbids the call (completed dataset, training running, …)."""


class PreconditionFailed(ApiError):
    """412: a precondition on the input failed (image too small, dataset not completed)."""


class ValidationError(ApiError):
    """400 / 415 / 422: the request itself is invalid."""


class RateLimited(ApiError):
    """429, raised only after the client's retries are exhausted."""


class ServerError(ApiError):
    """5xx. On a non-idempotent call `outcome_unknown` is True: the call may have committed."""


class TransportError(ApiError):
    """The request failed on the network (refused, reset, timed out, …)."""


class InvalidToken(ApiError):
    """The token cannot be sent in an HTTP header (a control, whitespace or non-ASCII
    character in it, e.g. a newline pasted with it). Raised by the client's constructor, so
    no request is ever made with it; the message never contains the token."""


class OutcomeUnknown(TransportError):
    """A non-idempotent call may have reached the server but no response came back.

    The object may exist. The client did NOT retry; look it up before trying again.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path, outcome_unknown=True)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    415: ValidationError,
    422: ValidationError,
    429: RateLimited,
}


def error_class_for_status(status: int) -> type[ApiError]:
    """The error type for an HTTP error status (any unlisted 4xx is a plain ApiError)."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


def message_from_body(body: bytes | str) -> str:
    """The human message inside an error body, whatever shape the server chose.

    Understands `{"error": "..."}`, `{"error": {"message": ...}}`, `{"message": ...}`,
    `{"detail": ...}` (string or list of items), a bare JSON string, plain text and an
    empty body (→ "").
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return ""
    try:
        parsed = json.loads(text)
    except ValueError:
        return _shorten(text)
    return _shorten(_message_from_json(parsed))


def _message_from_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("error", "message", "detail", "msg"):
            if key in value and value[key] not in (None, "", {}, []):
                return _message_from_json(value[key])
        return json.dumps(value, sort_keys=True)
    if isinstance(value, list):
        return "; ".join(_message_from_json(item) for item in value)
    return json.dumps(value)


def _shorten(text: str) -> str:
    if len(text) <= _MAX_MESSAGE_CHARS:
        return text
    return text[: _MAX_MESSAGE_CHARS - 1] + "…"


def error_from_response(
    status: int,
    body: bytes | str,
    *,
    method: str,
    path: str,
    outcome_unknown: bool = False,
) -> ApiError:
    """Build the error for an HTTP error response (status >= 400)."""
    cls = error_class_for_status(status)
    message = message_from_body(body)
    return cls(message, status=status, method=method, path=path, outcome_unknown=outcome_unknown)
