"""`bria emulator serve`: run the API emulator under uvicorn.

Prints exactly one line, `bria emulator listening on http://HOST:PORT/v1`, flushed, once the
socket is bound and the server is serving (tests and benchmarks wait for it). `--port 0`
picks a free port; the line shows the real one.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import click

from reconciler.emulator import EmulatorConfig, create_app
from reconciler.emulator.config import DIALECTS
from reconciler.emulator.faults import DroppedConnection


class _HideDroppedConnections(logging.Filter):
    """Dropped connections are injected on purpose; uvicorn would log each as a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP (not 0) so asyncio recognises a TCP socket and sets TCP_NODELAY on
    # accepted connections; without it Nagle's algorithm adds ~45 ms to reused connections.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def _serve(server, sock: socket.socket, host: str) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        click.echo(f"bria emulator listening on http://{shown_host}:{port}/v1")
        click.get_text_stream("stdout").flush()
    await task


@click.group("emulator")
def emulator() -> None:
    """A local emulator of Bria's Tailored Generation API (for tests, demos and CI)."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int, help="0 picks a free port.")
@click.option("--data", "--data-path", "data_path", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to keep data in (default: in memory).")
@click.option("--training-seconds", default=3600.0, show_default=True, type=float,
              help="How long a training run stays InProgress before it completes.")
@click.option("--failure-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that a training run ends Failed.")
@click.option("--rate-limit", type=float, help="Requests per minute per endpoint per organisation.")
@click.option("--rate-burst", type=float, help="Token bucket capacity (default: rate-limit / 60, at least 1).")
@click.option("--rate-window", is_flag=True,
              help="Count each minute's requests (reset every minute) instead of a token bucket.")
@click.option("--retry-after", is_flag=True, help="Send a Retry-After header with 429 responses.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float,
              help="Delay added to every API request (/v1 and /v2, 404 and 405 answers included).")
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Probability of a 500/502/503 before anything is changed.")
@click.option("--drop-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that a successful change's response is lost (connection dropped).")
@click.option("--captions-seconds", default=2.0, show_default=True, type=float,
              help="How long regenerating all captions takes.")
@click.option("--stopping-seconds", default=5.0, show_default=True, type=float,
              help="How long a stopped training stays Stopping.")
@click.option("--token", "tokens", multiple=True, help="Accept only these tokens (repeatable; default: any).")
@click.option("--seed", type=int, help="Seed for failure, fault and drop decisions.")
@click.option("--max-request-bytes", default=EmulatorConfig.max_request_bytes, show_default=True, type=int,
              help="Larger request bodies are refused with 413.")
@click.option("--dialect", default="legacy", show_default=True, type=click.Choice(DIALECTS),
              help="Which generation of the API to speak: legacy (caption prefixes), mixed (both "
                   "families, training_version on datasets) or fibo (visual schemas only).")
@click.option("--max-image-bytes", default=EmulatorConfig.max_image_bytes, show_default=True, type=int,
              help="Uploaded images larger than this are refused with 413 (Bria: 12 MB).")
@click.option("--late-commit-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that a change is answered 502/503/504 but committed later anyway.")
@click.option("--late-commit-delay", default=2.0, show_default=True, type=float,
              help="Seconds after the 5xx at which a late commit happens.")
@click.option("--garbled-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Probability that a committed change is answered 2xx with an undecodable body.")
@click.option("--soft-delete-models", is_flag=True,
              help='DELETE model sets status "Deleted" and keeps it listed (as Gen A documents).')
@click.option("--insufficient-data-on", "insufficient_data_on", multiple=True, metavar="OP",
              help='Answer 506 "insufficient data" to this operation, e.g. "POST /tailored-gen/models" '
                   "(repeatable; names as in /_emulator/stats).")
@click.option("--odd-reply", type=click.Choice(["redirect", "html", "truncated", "hang"]),
              help="Answer like a misconfigured endpoint: a 302 elsewhere, a 200 HTML page, "
                   "200 with cut-off JSON, or never.")
@click.option("--odd-reply-on", "odd_reply_on", multiple=True, metavar="OP",
              help="Only for this operation (repeatable; default: every /v1 call).")
@click.option("--generation-seconds", default=0.0, show_default=True, type=float,
              help="A generated image (and a v2 async generation) is ready this long after its request.")
def serve(host: str, port: int, data_path: Path | None, tokens: tuple[str, ...], **knobs: object) -> None:
    """Serve the emulated API at http://HOST:PORT/v1 until interrupted."""
    import uvicorn

    from reconciler.cli import interrupts

    interrupts.uninstall()      # a server stops on SIGTERM/Ctrl-C as uvicorn decides, not as "cancelled"

    try:
        config = EmulatorConfig(data_path=data_path, tokens=tokens or None, **knobs)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        sock = _bind(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="off",
                                           access_log=False))
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())
    asyncio.run(_serve(server, sock, host))


COMMANDS = [emulator]
