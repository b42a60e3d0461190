"""The asyncio network backend (reconciler/api/network.py) against real sockets.

Each case runs on bria's backend and on httpx's own (anyio) transport, and both must behave
the same: the same bytes on success, the same httpx exception class on failure — so what
bria decides about a call whose outcome is unknown cannot depend on which backend carried it.
The servers are raw asyncio servers on loopback, scripted per case, so that closed idle
connections, resets, stalls and back-pressure happen for real.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable

import httpx
import pytest
import trustme

from reconciler.api import network
from reconciler.api.client import BriaClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BACKENDS = {"asyncio": network.AsyncioHTTPTransport, "anyio": httpx.AsyncHTTPTransport}


class Server:
    """A loopback server running `handler` per connection; counts connections."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None):
        self._handler = handler
        self._ssl = ssl_context
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self._handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self._ssl)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self._ssl else 'http'}://localhost:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request (head and a Content-Length body); returns the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return await reader.readexactly(length)


def response(body: bytes, *, close: bool = False) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
            + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request on the connection with its body, keeping the connection open."""
    while True:
        try:
            body = await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(response(body or b"ok"))
        await writer.drain()


def client(backend: str, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=BACKENDS[backend](**kwargs), timeout=httpx.Timeout(5.0))


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_bria_client_sends_through_the_asyncio_backend() -> None:
    """What guards the swap of httpx's pool (network.AsyncioHTTPTransport): if a new httpx
    stopped using `_pool`, requests would silently go back through anyio."""
    async with Server(echo) as url:
        api = BriaClient(url, "token")
        try:
            transport = api._http._transport
            assert isinstance(transport, network.AsyncioHTTPTransport)
            answer = await api._http.post("/", content=b"hello")
            assert answer.content == b"hello"
            assert isinstance(answer.extensions["network_stream"], network.AsyncioStream)
        finally:
            await api.aclose()


async def test_keep_alive_connections_are_reused(backend: str) -> None:
    server = Server(echo)
    async with server as url, client(backend) as http:
        for n in range(5):
            assert (await http.post(url, content=b"x%d" % n)).content == b"x%d" % n
    assert server.connections == 1


async def test_a_connection_the_server_closed_while_idle_is_not_reused(backend: str) -> None:
    """The pool's is_readable check: the server closes after answering (without saying
    Connection: close), and the next request must go out on a new connection, not fail."""
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        writer.write(response(body))
        await writer.drain()

    server = Server(once)
    async with server as url, client(backend) as http:
        for n in range(3):
            assert (await http.post(url, content=b"%d" % n)).content == b"%d" % n
            await asyncio.sleep(0.05)    # the FIN arrives while the connection is idle
    assert server.connections == 3


async def test_bytes_sent_unasked_on_an_idle_connection_retire_it(backend: str) -> None:
    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        writer.write(response(body))
        await writer.drain()
        await asyncio.sleep(0.02)            # after the answer was read: the connection is idle
        writer.write(b"garbage")
        await writer.drain()
        await asyncio.sleep(1)

    server = Server(chatty)
    async with server as url, client(backend) as http:
        assert (await http.post(url, content=b"a")).content == b"a"
        await asyncio.sleep(0.1)
        assert (await http.post(url, content=b"b")).content == b"b"
    assert server.connections == 2


async def test_large_bodies_cross_back_pressure_intact(backend: str) -> None:
    """8 MB each way: more than the socket buffers and the backend's read high-water mark,
    so writing waits for the peer and reading pauses and resumes."""
    payload = bytes(range(256)) * (8 * 1024 * 4)

    async def slow_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.1)             # the client's writes back up meanwhile
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        writer.write(response(body))
        await writer.drain()

    async with Server(slow_echo) as url, client(backend) as http:
        answer = await http.post(url, content=payload)
    assert answer.content == payload


async def test_a_server_that_never_answers_is_a_read_timeout(backend: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)

    async with Server(silent) as url:
        async with httpx.AsyncClient(transport=BACKENDS[backend](), timeout=httpx.Timeout(0.2)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post(url, content=b"x")


async def test_a_refused_connection_is_a_connect_error(backend: str) -> None:
    async with Server(echo) as url:
        pass                                 # closed: nothing listens on that port now
    async with client(backend) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(url)


@pytest.mark.parametrize("how", ["close before answering", "reset before answering", "close mid-body"])
async def test_a_connection_lost_mid_call_fails_the_same_on_both_backends(how: str) -> None:
    """bria's rule for "did the call take effect?" reads the exception class, so each way of
    losing a connection must raise the same class through either backend."""
    async def lose(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if how == "reset before answering":   # SO_LINGER 0: close with RST, not FIN
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        elif how == "close mid-body":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            await writer.drain()

    raised = {}
    for name in sorted(BACKENDS):
        async with Server(lose) as url, client(name) as http:
            with pytest.raises(httpx.TransportError) as caught:
                await http.post(url, content=b"x")
            raised[name] = caught.type
    assert raised["asyncio"] is raised["anyio"], raised


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


async def test_https_verifies_the_server_and_carries_the_request(certificate_authority: trustme.CA,
                                                                 backend: str) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(server_context)
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)
    async with Server(echo, server_context) as url:
        async with client(backend, verify=trusting) as http:
            answer = await http.post(url, content=b"secret")
            assert answer.content == b"secret"
            assert answer.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with client(backend, verify=ssl.create_default_context()) as http:   # does not trust the CA
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(url)
