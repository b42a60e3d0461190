"""httpcore's network layer on asyncio's own transports, without anyio.

Under asyncio, httpcore reaches sockets through anyio, and every socket operation pays for
it: a cancel scope with a loop timer, an exception-mapping context manager and a `sleep(0)`
checkpoint per write, and a typed-attribute lookup plus a `poll()` for each "is this idle
connection still usable?" check, which the connection pool makes for every connection on
every request. That was ~9% of a 200-image apply's CPU (py-spy), a known cost of httpx on
asyncio (encode/httpx#3215); httpcore itself keeps anyio as its only asyncio backend.

`AsyncioBackend` implements httpcore's documented `AsyncNetworkBackend` interface on
`loop.create_connection` and one small `asyncio.Protocol` per connection:

- a read returns buffered bytes at once, else waits on a future (with the request's read
  timeout); a write hands the bytes to the transport and waits only under back-pressure;
- the protocol keeps reading while a connection sits idle in the pool (up to `HIGH_WATER`
  bytes), so "is_readable" — the pool's test for a connection the server closed or wrote
  to unasked — is answered from the protocol's state, without a system call;
- TLS is `loop.start_tls` with the request's connect timeout;
- failures raise the same httpcore exceptions as the anyio backend (`ConnectError`,
  `ConnectTimeout`, `ReadError`, `ReadTimeout`, `WriteError`, `WriteTimeout`), which httpx
  maps to its own: what "a call's outcome is unknown" means to bria does not change.

`AsyncioHTTPTransport` is httpx's own `AsyncHTTPTransport` (request and response mapping,
exception mapping, limits, TLS context) with its connection pool on this backend. Proxies
configured in the environment are unaffected: httpx mounts its own transports for them.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore
import httpx

# Bytes a connection buffers before it stops reading from the socket; it reads on below LOW_WATER.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
# Delay before racing the next address of a host with several (RFC 8305's recommendation).
HAPPY_EYEBALLS_DELAY = 0.25


class _Connection(asyncio.Protocol):
    """One connection's state, fed by asyncio: the bytes received and not yet read, whether
    the peer has finished (EOF or a lost connection), and the waiters of the one reader and
    one writer httpcore allows per connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.finished = False
        self.error: BaseException | None = None     # why the connection was lost, if not cleanly
        self.paused_reading = False
        self.paused_writing = False
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and not self.paused_reading and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()
        _wake(self._data_waiter)

    def eof_received(self) -> bool:
        self.finished = True
        _wake(self._data_waiter)
        return False        # close the transport: HTTP/1.1 never writes after the peer's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self.finished = True
        self.error = exc
        _wake(self._data_waiter)
        _wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        _wake(self._drain_waiter)

    # --- used by AsyncioStream -----------------------------------------------------------

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.paused_reading and len(self.buffer) <= LOW_WATER and self.transport is not None:
            self.paused_reading = False
            self.transport.resume_reading()
        return data

    def data_waiter(self) -> asyncio.Future[None]:
        self._data_waiter = asyncio.get_running_loop().create_future()
        return self._data_waiter

    def drain_waiter(self) -> asyncio.Future[None]:
        self._drain_waiter = asyncio.get_running_loop().create_future()
        return self._drain_waiter


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def _wait(waiter: asyncio.Future[None], timeout: float | None) -> None:
    if timeout is None:
        await waiter
    else:
        async with asyncio.timeout(timeout):
            await waiter


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if not connection.buffer and not connection.finished:
            try:
                await _wait(connection.data_waiter(), timeout)
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc) or "timed out reading the response") from exc
        if connection.buffer:
            return connection.take(max_bytes)
        if connection.error is not None:
            raise httpcore.ReadError(str(connection.error) or type(connection.error).__name__) \
                from connection.error
        return b""      # the peer closed the connection; h11 decides whether that was early

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        if connection.finished or self._transport.is_closing():
            raise httpcore.WriteError(str(connection.error or "the connection is closed"))
        self._transport.write(buffer)
        if connection.paused_writing:
            try:
                await _wait(connection.drain_waiter(), timeout)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(str(exc) or "timed out sending the request") from exc
            if connection.paused_writing or connection.error is not None:
                raise httpcore.WriteError(str(connection.error or "the connection was lost"))

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(self._transport, self._connection, ssl_context,
                                           server_hostname=server_hostname)
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(exc) or "timed out in the TLS handshake") from exc
        except (OSError, EOFError) as exc:    # ssl.SSLError is an OSError
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if tls is None:     # the transport closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        # The protocol now receives through the TLS transport and must pause/resume that one.
        self._connection.transport = tls
        return AsyncioStream(tls, self._connection)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            # True when the idle connection cannot serve another request: the server closed
            # it or sent bytes nobody asked for (the protocol reads while idle, see module doc).
            return bool(self._connection.buffer) or self._connection.finished
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection, host, port, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                    local_addr=(local_address, 0) if local_address else None)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        _set_options(transport, socket_options)      # asyncio already sets TCP_NODELAY
        return AsyncioStream(transport, connection)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_unix_connection(_Connection, path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or f"timed out connecting to {path}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        _set_options(transport, socket_options)
        return AsyncioStream(transport, connection)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _set_options(transport: asyncio.Transport,
                 socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None) -> None:
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)


class AsyncioHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on `AsyncioBackend` (see module doc)."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults
        ssl_context = httpx.create_ssl_context(verify=verify)
        super().__init__(verify=ssl_context, limits=limits)
        # Replaces the pool httpx just built (same settings) — httpx offers no parameter for
        # the network backend; tests/test_network.py checks this pool is the one requests use.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=AsyncioBackend())
