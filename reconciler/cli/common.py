"""Helpers shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Coroutine, NoReturn, TypeVar

from reconciler.model import Manifest

if TYPE_CHECKING:
    from reconciler.api import BriaClient
    from reconciler.state.model import State

T = TypeVar("T")


# What a command that talks to the API imports after loading its manifest and before its
# first request (the client and its transport, reconciler.api.network), and
# what planning imports. `load_manifest_or_exit(meanwhile=import_soon(...))` imports them
# while the images are read, where they cost no wall time on a plan over many images.
REQUEST_MODULES = ("reconciler.api.client", "reconciler.state.local", "httpx._transports.default", "httpcore",
                   "sniffio")
PLANNING_MODULES = ("reconciler.refresh", "reconciler.planner", "reconciler.render.human")


def import_soon(*modules: str) -> Callable[[], None]:
    """A `meanwhile` for load_manifest that imports `modules` (each still imports where it
    is used: this only moves the cost)."""
    def run() -> None:
        import importlib

        for module in modules:
            importlib.import_module(module)
    return run


def load_manifest_or_exit(path: str, *, meanwhile: Callable[[], None] | None = None) -> Manifest:
    """Load the manifest at `path` (as the user typed it), or print why not and exit 1.

    Every diagnostic goes to stderr, errors and warnings alike, followed by a count line
    when there are errors. Image facts are cached in `<manifest folder>/.bria/image-cache.json`
    so that unchanged images are not re-read on the next run. `meanwhile` runs while the
    images are read (reconciler.manifest.load_manifest).
    """
    import click

    from reconciler.cli.exitcodes import ERROR
    from reconciler.diagnostics import Severity
    from reconciler.images import HashCache, default_cache_path
    from reconciler.manifest import load_manifest

    manifest_path = Path(path)
    cache = HashCache(default_cache_path(manifest_path.absolute().parent))
    manifest, diagnostics = load_manifest(manifest_path, hash_cache=cache, meanwhile=meanwhile)
    for diagnostic in diagnostics:
        click.echo(str(diagnostic), err=True)
    if manifest is not None:
        from reconciler.cli.workspace import with_workspace

        try:
            return with_workspace(manifest)
        except ValueError as exc:
            fail(str(exc), ERROR)
    if manifest is None:
        errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
        warnings = len(diagnostics) - errors
        counts = f"{errors} error{'s' if errors != 1 else ''}"
        if warnings:
            counts += f", {warnings} warning{'s' if warnings != 1 else ''}"
        click.echo(f"{path}: invalid — {counts}", err=True)
        raise SystemExit(ERROR)
    return manifest


# --- shared wiring for commands that talk to the API and the state (plan, apply, show, …) ---
# Imports stay inside the functions: `bria validate` must not pay for httpx or the emulator.

EMULATOR_ENDPOINT = "emulator"            # `api.endpoint: emulator`: the embedded emulator
EMULATOR_BASE_URL = "http://emulator/v1"
EMULATOR_TOKEN = "bria-local-emulator"    # the embedded emulator accepts any token; this one is fixed
PRODUCTION_ENDPOINT = "https://engine.prod.bria-api.com/v1"
EMBEDDED_CAPTIONS_SECONDS = 0.2           # regenerate-all-captions in the embedded emulator


def fail(message: str, code: int) -> NoReturn:
    """Print `error: message` to stderr and exit with `code` (see exitcodes.py)."""
    from reconciler.cli.session import error

    error(message)
    raise SystemExit(code)


def resolve_endpoint(manifest: Manifest) -> str:
    """The API base URL: env BRIA_API_URL, else the manifest's `api.endpoint`, else production.
    "emulator" means the embedded in-process emulator."""
    import os

    return (os.environ.get("BRIA_API_URL") or manifest.api_endpoint or PRODUCTION_ENDPOINT).strip()


def api_token(endpoint: str) -> str:
    """The API token from env BRIA_API_TOKEN (always a fixed local one for the embedded emulator).
    Exits 1 with a clear message when it is missing; the token itself is never printed."""
    import os

    from reconciler.cli.exitcodes import ERROR

    # The embedded emulator always uses its own fixed token: an exported production token
    # must not select a different emulator organisation (everything would look deleted),
    # and a real token has no business being handed to a local fake.
    if endpoint == EMULATOR_ENDPOINT:
        return EMULATOR_TOKEN
    token = os.environ.get("BRIA_API_TOKEN", "").strip()
    if not token:
        fail(f"no API token: set the environment variable BRIA_API_TOKEN to talk to {endpoint}", ERROR)
    # An HTTP header carries only printable ASCII; anything else would surface later as a
    # transport error that quotes the header value, i.e. the token. The client refuses such a
    # token too; checking here first names the variable to fix.
    from reconciler.api.client import is_sendable_token

    if not is_sendable_token(token):
        fail("BRIA_API_TOKEN contains a space, a non-ASCII or a control character (a stray newline "
             "from copying it?); it cannot be sent in an HTTP header. Its value is not shown.", ERROR)
    return token


def require_address(addr: str, flag: str = "") -> tuple[str, str]:
    """The (kind, key) of a resource address the user typed, or `error: …` and exit 1 — the
    one check of a typed address (--target/--exclude/--allow-destroy, show, state rm, import)."""
    from reconciler.cli.exitcodes import ERROR
    from reconciler.model import split_address

    try:
        return split_address(addr)
    except ValueError as exc:
        fail(f"{flag} {addr}: {exc}" if flag else str(exc), ERROR)


def require_model_addresses(addresses: "tuple[str, ...]", why: str) -> None:
    """Every typed address is a well-formed `model.KEY`, or `error: …` and exit 1 (`why` says
    why only models make sense, e.g. "only models train")."""
    from reconciler.cli.exitcodes import ERROR

    for addr in addresses:
        if require_address(addr)[0] != "model":
            fail(f"{addr}: {why} (expected model.KEY)", ERROR)


def check_address_flags(manifest: Manifest, state: "State", *, targets=(), excludes=(), allow_destroy=()) -> None:
    """Bad --target/--exclude/--allow-destroy values exit 1 before any API call.

    A malformed address is an error for every flag; an unknown one is an error for
    --target/--exclude (the plan would silently cover something else) but only a warning
    for --allow-destroy, where a stale permission can do no harm. `allow_destroy` is the
    flag's values, or "all"."""
    import click

    from reconciler.cli.exitcodes import ERROR

    known = set(manifest.addresses()) | set(state.addresses())
    permissions = () if allow_destroy == "all" else tuple(a for a in allow_destroy if a != "all")
    for flag, addrs in (("--target", targets), ("--exclude", excludes), ("--allow-destroy", permissions)):
        for addr in addrs:
            require_address(addr, flag)
            if addr in known:
                continue
            message = f"{flag} {addr}: no such resource in the manifest or the state{_did_you_mean(addr, known)}"
            if flag == "--allow-destroy":
                click.echo(f"Warning: {message}", err=True)
            else:
                fail(message, ERROR)


def _did_you_mean(addr: str, known: set[str]) -> str:
    """A "; did you mean …?" suffix naming the closest known address, or "" when none is close."""
    from difflib import get_close_matches

    kind, _, name = addr.partition(".")
    names = sorted(k.partition(".")[2] for k in known if k.partition(".")[0] == kind)
    close = get_close_matches(name, names, n=1)
    return f"; did you mean {kind}.{close[0]}?" if close else ""


def emulator_data_path(manifest: Manifest) -> Path:
    """`<state folder>/<manifest stem>.emulator.sqlite`: the embedded emulator's data lives
    beside the state, so a plan sees what the previous apply created."""
    from reconciler.cli.workspace import workspace_suffix

    folder = manifest.state.path.parent if manifest.state.path else manifest.root / "state"
    return folder / f"{manifest.path.stem}{workspace_suffix(manifest)}.emulator.sqlite"


DIALECT_ENV = "BRIA_API_DIALECT"


def resolve_dialect(manifest: Manifest) -> str | None:
    """The API dialect: env BRIA_API_DIALECT, else `api.dialect`, else — for the embedded
    emulator — the one it speaks; None = unknown (apply detects it). A bad env value exits 1."""
    import os

    from reconciler.api.dialects import DIALECTS
    from reconciler.cli.exitcodes import ERROR

    configured = os.environ.get(DIALECT_ENV, "").strip()
    if configured:
        if configured not in DIALECTS:
            fail(f"{DIALECT_ENV}={configured!r} is not a dialect (expected one of {', '.join(DIALECTS)})", ERROR)
        return configured
    if manifest.api_dialect:
        return manifest.api_dialect
    if resolve_endpoint(manifest) == EMULATOR_ENDPOINT:
        return embedded_dialect(manifest)
    return None


def embedded_dialect(manifest: Manifest) -> str:
    """The embedded emulator speaks `api.emulator.dialect`, else `api.dialect`, else legacy."""
    return manifest.emulator.dialect or manifest.api_dialect or "legacy"


def build_client(manifest: Manifest, **client_options: Any) -> "BriaClient":
    """A BriaClient for the manifest's endpoint. For "emulator" the emulator runs in-process
    (httpx.ASGITransport) on a SQLite file beside the state. `client_options` go to
    BriaClient (timeout, max_concurrency, …)."""
    from reconciler.api import BriaClient

    endpoint = resolve_endpoint(manifest)
    token = api_token(endpoint)
    # Unknown until detected: "mixed" accepts every call, and apply settles it first.
    client_options.setdefault("dialect", resolve_dialect(manifest) or "mixed")
    if endpoint != EMULATOR_ENDPOINT:
        return BriaClient(base_url=endpoint, token=token, **client_options)
    from reconciler.emulator import EmulatorConfig, create_app

    _EmbeddedEmulatorTransport = _embedded_transport_class()
    data_path = emulator_data_path(manifest)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(data_path=data_path, training_seconds=manifest.emulator.training_seconds,
                            captions_seconds=EMBEDDED_CAPTIONS_SECONDS, dialect=embedded_dialect(manifest))
    transport = _EmbeddedEmulatorTransport(app=create_app(config))
    return BriaClient(base_url=EMULATOR_BASE_URL, token=token, transport=transport, **client_options)


def _embedded_transport_class() -> type:
    import httpx

    class EmbeddedEmulatorTransport(httpx.ASGITransport):
        """ASGITransport that also closes the embedded emulator's SQLite store when the
        client closes (`app.state.emulator` is the emulator's documented embedding handle)."""

        async def aclose(self) -> None:
            await super().aclose()
            self.app.state.emulator.store.close()

    return EmbeddedEmulatorTransport


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a (synchronous) click command. A loop that set its
    own signal handlers resets them when it closes; bria's are put back (see interrupts.py)."""
    import asyncio

    from reconciler.cli import interrupts

    try:
        return asyncio.run(coro)
    finally:
        interrupts.reinstall()


def command_line() -> str:
    """The command as typed (for lock holder info), e.g. `bria plan -f bria.yaml`."""
    import sys

    return " ".join(["bria", *sys.argv[1:]])
