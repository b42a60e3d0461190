"""Executing one API request: pacing, bounded concurrency, retries, error mapping, logging.

Retry rules (the API has no idempotency key, so a repeated POST creates a second object):

- idempotent calls (GET, PUT, DELETE, and generate_prefix, which has no side effect) are
  retried on 429, 408, 5xx (not 506), any transport failure and an undecodable 2xx;
- non-idempotent calls (every other POST) are retried only on 429 and on connection
  failures that happened before the request could be sent (ConnectError, ConnectTimeout,
  PoolTimeout). Whenever the call may have committed — a later transport failure, a 5xx
  but 506, 408, a 3xx, a 2xx whose body cannot be decoded — `OutcomeUnknown` is raised
  (the full contract is in errors.py).

Redirects are never followed. Decoding the JSON body happens here, so an undecodable answer
is judged by the same rules as a status.

Waits use full-jitter exponential backoff, or the server's `Retry-After` when it sends one.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from reconciler.api import errors
from reconciler.api.bodies import StreamedBody
from reconciler.api.pacing import AdaptivePacer
from reconciler.api.redaction import redact

logger = logging.getLogger("bria.api")

# Failures raised before any byte of the request left: safe to retry any call.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that may come after the server received the request. OSError covers a raw
# connection reset propagated from an in-process ASGI app.
_MAYBE_SENT = (httpx.TransportError, OSError)
_MAX_RETRY_AFTER = 600.0
_MAY_HAVE_COMMITTED = "; the call may have taken effect and was not retried"
# An unreadable 2xx (an HTML login page, a cut-off body) is usually a misconfigured endpoint
# or proxy, not a passing fault: it is retried, but fewer times than a 5xx.
_UNDECODABLE_RETRIES = 2
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and how long to wait between attempts (seconds)."""

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(retry_number-1))]."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (retry_number - 1))
        return rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class RequestSpec:
    """One API call. `path` is relative to the base URL, e.g. `/tailored-gen/projects/3`."""

    method: str
    path: str
    idempotent: bool
    json: Any = None
    params: Mapping[str, Any] | None = None
    body: StreamedBody | None = None
    expect: type | None = None          # dict or list: the JSON the call must answer; None = any/empty
    timeout: httpx.Timeout | None = None  # None = the client's default

    @property
    def endpoint(self) -> str:
        """Method and path template, ids replaced by `{id}`: the pacing and stats key."""
        return f"{self.method} {_ID_SEGMENT.sub('/{id}', self.path)}"


@dataclass
class EndpointStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0


@dataclass
class ClientStats:
    """Counters over the client's life. `requests` counts attempts actually sent."""

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    by_endpoint: dict[str, EndpointStats] = field(default_factory=dict)
    in_flight: int = 0                   # attempts sent and not yet answered
    last_answer: float | None = None     # time.monotonic() of the last answer or failure

    def _endpoint(self, key: str) -> EndpointStats:
        return self.by_endpoint.setdefault(key, EndpointStats())

    def count_request(self, key: str) -> None:
        self.requests += 1
        self._endpoint(key).requests += 1

    def count_rate_limited(self, key: str) -> None:
        self.rate_limited += 1
        self._endpoint(key).rate_limited += 1

    def count_retry(self, key: str) -> None:
        self.retries += 1
        self._endpoint(key).retries += 1


class _Retry(Exception):
    """Internal signal: wait `delay` seconds (None = backoff), then try again."""

    def __init__(self, final_error: errors.ApiError, delay: float | None = None, limit: int | None = None) -> None:
        self.final_error = final_error
        self.delay = delay
        self.limit = limit    # at most this many retries for this kind of failure (None = the policy's)


class RequestExecutor:
    """Sends `RequestSpec`s through one httpx client with the rules above."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        policy: RetryPolicy,
        pacer: AdaptivePacer,
        max_concurrency: int,
        stats: ClientStats,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._http = http
        self._policy = policy
        self._pacer = pacer
        self._slots = asyncio.Semaphore(max_concurrency)
        self._stats = stats
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def execute(self, spec: RequestSpec) -> Any:
        """The decoded JSON of a successful (2xx) answer (None when it has no body), or raise
        an `errors.ApiError`."""
        attempt = 1
        while True:
            try:
                return await self._attempt(spec, attempt)
            except _Retry as retry:
                limit = self._policy.max_retries if retry.limit is None else min(retry.limit, self._policy.max_retries)
                if attempt > limit:
                    raise retry.final_error from retry.__cause__
                delay = retry.delay
                if delay is None:
                    delay = self._policy.backoff(attempt, self._rng)
                self._stats.count_retry(spec.endpoint)
                await self._sleep(delay)
                attempt += 1

    async def _attempt(self, spec: RequestSpec, attempt: int) -> Any:
        key = spec.endpoint
        sent_at = await self._pacer.wait_turn(key)
        started = time.monotonic()
        async with self._slots:
            self._stats.count_request(key)
            self._stats.in_flight += 1
            try:
                response = await self._send(spec)
            except _NOT_SENT as exc:
                self._log(spec, type(exc).__name__, started, attempt)
                raise _Retry(self._transport_error(spec, exc)) from exc
            except httpx.DecodingError as exc:   # e.g. a bad gzip stream: the answer came, unreadable
                self._log(spec, type(exc).__name__, started, attempt)
                raise self._undecodable(spec, _describe_exception(exc)) from exc
            except _MAYBE_SENT as exc:
                self._log(spec, type(exc).__name__, started, attempt)
                if not spec.idempotent:
                    raise errors.OutcomeUnknown(_describe_exception(exc) + _MAY_HAVE_COMMITTED,
                                                method=spec.method, path=spec.path) from exc
                raise _Retry(self._transport_error(spec, exc)) from exc
            finally:
                self._stats.in_flight -= 1
                self._stats.last_answer = time.monotonic()
        self._log(spec, response.status_code, started, attempt)
        self._judge(spec, response, sent_at)
        return self._decode(spec, response)

    async def _send(self, spec: RequestSpec) -> httpx.Response:
        response = await self._http.send(build_request(self._http, spec))
        await response.aread()
        return response

    def _judge(self, spec: RequestSpec, response: httpx.Response, sent_at: float) -> None:
        """Returns for a 2xx; otherwise raises the error (or `_Retry`) the status calls for."""
        key = spec.endpoint
        status = response.status_code
        if status == 429:
            self._stats.count_rate_limited(key)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self._pacer.record_rate_limited(key, sent_at, retry_after)
            raise _Retry(self._http_error(spec, response), delay=retry_after)
        self._pacer.record_success(key, sent_at)
        if 200 <= status < 300:
            return
        error = self._http_error(spec, response)
        if not spec.idempotent and errors.may_have_committed(status):
            raise errors.OutcomeUnknown(error.message + _MAY_HAVE_COMMITTED, status=status,
                                        method=spec.method, path=spec.path)
        if status == 408 or (status >= 500 and status != 506):
            raise _Retry(error)
        raise error

    def _decode(self, spec: RequestSpec, response: httpx.Response) -> Any:
        """The 2xx body as JSON of the expected shape; an unreadable one is retried (idempotent)
        or raised as OutcomeUnknown (the call did take effect, we cannot read how)."""
        content = response.content
        if response.status_code == 204 or (not content.strip() and spec.expect is None):
            return None
        try:
            value = json.loads(content)
        except (ValueError, RecursionError):
            raise self._undecodable(spec, errors.not_json_message(
                response.headers.get("Content-Type", ""), content)) from None
        if spec.expect is not None and not isinstance(value, spec.expect):
            shape = "an object" if spec.expect is dict else "a list"
            raise self._undecodable(spec, f"the API answered with JSON that is not {shape}: "
                                          f"{type(value).__name__} {content[:200]!r}")
        return value

    def _undecodable(self, spec: RequestSpec, message: str) -> Exception:
        if not spec.idempotent:
            return errors.OutcomeUnknown(message + _MAY_HAVE_COMMITTED, method=spec.method, path=spec.path)
        return _Retry(errors.UnexpectedResponse(message, method=spec.method, path=spec.path),
                      limit=_UNDECODABLE_RETRIES)

    @staticmethod
    def _http_error(spec: RequestSpec, response: httpx.Response) -> errors.ApiError:
        status = response.status_code
        if 300 <= status < 400:
            return errors.Redirected(errors.redirect_message(status, response.headers.get("Location", "")),
                                     status=status, method=spec.method, path=spec.path)
        return errors.error_from_response(status, redact(response.text), method=spec.method, path=spec.path)

    @staticmethod
    def _transport_error(spec: RequestSpec, exc: BaseException) -> errors.TransportError:
        return errors.TransportError(_describe_exception(exc), method=spec.method, path=spec.path)

    @staticmethod
    def _log(spec: RequestSpec, outcome: object, started: float, attempt: int) -> None:
        logger.debug(
            "%s %s -> %s in %.3fs (attempt %d)",
            spec.method, spec.path, outcome, time.monotonic() - started, attempt,
        )


def build_request(http: httpx.AsyncClient, spec: RequestSpec) -> httpx.Request:
    """The httpx request for one attempt. A streamed body gets a fresh stream and an
    explicit Content-Length (so httpx sends no chunked encoding)."""
    timeout = spec.timeout if spec.timeout is not None else httpx.USE_CLIENT_DEFAULT
    if spec.body is None:
        return http.build_request(spec.method, spec.path, json=spec.json, params=spec.params, timeout=timeout)
    return http.build_request(
        spec.method, spec.path, params=spec.params, content=spec.body.open(),
        headers={"Content-Length": str(spec.body.length)}, timeout=timeout,
    )


def _describe_exception(exc: BaseException) -> str:
    detail = str(exc)
    return redact(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent
    or unparseable. Clamped to [0, 600]."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)
