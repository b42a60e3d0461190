"""The API client's error tree, and building an error from any error-response shape.

Every error the client raises is an `ApiError`, so callers may catch that one type.
HTTP errors carry the status; network faults are `TransportError` (status None).

Contract for NON-IDEMPOTENT calls (POST create project/dataset/model, clone, upload image,
start/stop training — the API has no idempotency key, so a repeat may make a twin):

- `OutcomeUnknown` (a `TransportError`) is raised whenever the server MIGHT have committed
  the call: a transport failure after the request may have been sent (read error, reset,
  read/write timeout), ANY 5xx except 506 (including a gateway's 502/504), 408, a 3xx, and a
  2xx whose body cannot be read (not JSON, truncated JSON, a bad gzip stream, an empty
  body, or JSON of the wrong shape). It always has `outcome_unknown = True`; `status` is the
  HTTP status when there was one. It is the ONE class the journal catches to keep an entry.
- The client never retries such a call, except on 429 and on connection failures that
  happened before any byte was sent (ConnectError, ConnectTimeout, PoolTimeout).
- Every other 4xx is a definite refusal (nothing was created) and raises its class below;
  506 ("insufficient data") is a definite answer too, never retried.

For IDEMPOTENT calls (GET, PUT, DELETE, generate_prefix) 429, 408, 5xx (not 506), transport
failures and an undecodable 2xx are retried a bounded number of times; what is left is
raised as `RateLimited`, `ServerError`, `TransportError` or `UnexpectedResponse`. A 3xx is
never followed (the token would travel with it): `Redirected`, naming the Location host.

Every message passes through `reconciler.textsafe.clean_text` here, at the error boundary:
text a server sent cannot reach a terminal or Markdown with control characters in it. The
client redacts the token from response bodies before they reach this module, so an
error's message never contains it (a server may echo the token it rejected).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from reconciler.textsafe import clean_text, preview

_MAX_MESSAGE_CHARS = 500
_PREVIEW_CHARS = 200


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
        self.message = clean_text(message)
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


class Forbidden(Unauthorized):
    """403: the token is known but the call is not allowed (quota exceeded, plan without
    access). Bria documents the body as a bare JSON string, e.g. "Quota exceeded: …"."""


class NotFound(ApiError):
    """404: no such object in the token's organisation."""


class Conflict(ApiError):
    """409: the object's state forbids the call (completed dataset, training running, …)."""


class PreconditionFailed(ApiError):
    """412: a precondition on the input failed (image too small, dataset not completed)."""


class ValidationError(ApiError):
    """400 / 415 / 422: the request itself is invalid."""


class PayloadTooLarge(ValidationError):
    """413: the request (an image) is too large; Bria refuses images above 12 MB."""


class ImageFetchFailed(ValidationError):
    """460 (Bria-wide): the API could not download an image from the URL it was given."""


class InsufficientData(ApiError):
    """506 (Bria-wide) "insufficient data": a definite answer about the input, not a server
    fault; never retried."""


class Redirected(ApiError):
    """3xx: the endpoint answered with a redirect. bria never follows one (the api_token
    header would go to wherever it points); usually `api.endpoint` is wrong."""


class UnexpectedResponse(ApiError):
    """A 2xx whose body is not what the call returns: not JSON (an HTML page from a proxy),
    truncated, badly compressed, or JSON of another shape."""


class RateLimited(ApiError):
    """429, raised only after the client's retries are exhausted."""


class ServerError(ApiError):
    """5xx. On a non-idempotent call `outcome_unknown` is True: the call may have committed."""


class TransportError(ApiError):
    """The request failed on the network (refused, reset, timed out, …)."""


class DeadlineExceeded(TransportError):
    """A command's bounded wait for the API (e.g. `--refresh-timeout`) ran out. Raised only
    around read-only work (refresh), so nothing may have been changed by it."""


class InvalidToken(ApiError):
    """The token cannot be sent in an HTTP header (a control, whitespace or non-ASCII
    character in it, e.g. a newline pasted with it). Raised by the client's constructor, so
    no request is ever made with it; the message never contains the token."""


class OutcomeUnknown(TransportError):
    """A non-idempotent call may have been committed, but no readable success came back
    (see the module docstring for every case). `status` is the HTTP status if one came.

    The object may exist. The client did NOT retry; look it up before trying again.
    """

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        super().__init__(message, status=status, method=method, path=path, outcome_unknown=True)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: ValidationError,
    422: ValidationError,
    429: RateLimited,
    460: ImageFetchFailed,
    506: InsufficientData,
}

# What a status means, said before the server's own text (which may be terse or empty).
_HINTS: dict[int, str] = {
    403: "access refused (quota exceeded or not included in the plan)",
    413: "the request is too large (Bria refuses images above 12 MB)",
    460: "the API could not download the image from its URL",
    506: "the API reports insufficient data (a definite answer, not retried)",
}

# Statuses after which a non-idempotent call may have been committed.
GATEWAY_TIMEOUT_STATUSES = frozenset({408})


def may_have_committed(status: int) -> bool:
    """Whether a non-idempotent call answered `status` may nevertheless have taken effect:
    any 5xx but 506, 408, and any 3xx (a 303 is the standard "done, see there")."""
    return 300 <= status < 400 or status in GATEWAY_TIMEOUT_STATUSES or (status >= 500 and status != 506)


def error_class_for_status(status: int) -> type[ApiError]:
    """The error type for an HTTP error status (any unlisted 4xx is a plain ApiError)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 300 <= status < 400:
        return Redirected
    return ServerError if status >= 500 else ApiError


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
    hint = _HINTS.get(status)
    if hint:
        message = f"{hint}: {message}" if message else hint
    return cls(message, status=status, method=method, path=path, outcome_unknown=outcome_unknown)


def size_text(size: int) -> str:
    """1234 → "1.2 kB" (decimal units, as browsers and curl show them)."""
    if size < 1000:
        return f"{size} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def not_json_message(content_type: str, body: bytes | str, why: str = "") -> str:
    """ "the API answered with something that is not JSON (text/html, 1.2 kB): <start>"."""
    raw = body.encode("utf-8", "replace") if isinstance(body, str) else body
    kind = content_type.split(";")[0].strip() or "no content type"
    start = preview(raw[:1000].decode("utf-8", "replace").strip(), _PREVIEW_CHARS)
    because = f"; {why}" if why else ""
    shown = f": {start}" if start else " (empty body)"
    return (f"the API answered with something that is not JSON "
            f"({kind}, {size_text(len(raw))}{because}){shown}")


def redirect_message(status: int, location: str) -> str:
    """Names where the redirect points and what to check; the URL's query is left out."""
    host = urlsplit(location).netloc or "the same host"
    return (f"the API answered with a redirect (HTTP {status}) to {host}; bria does not "
            "follow redirects (the API token would go with it). Check `api.endpoint` in the manifest "
            "(or BRIA_API_URL): it must be the API's base URL, e.g. https://engine.prod.bria-api.com/v1")
