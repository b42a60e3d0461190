"""The API token comes from BRIA_API_TOKEN only and never appears in output, logs, plans, state,
the image cache or exceptions — also when the API fails: injected 5xx faults and dropped
connections, a 401 (the server accepts other tokens only), a refused connection.

The CLI runs as the real console script against a real `bria emulator serve`; the client's
own errors and debug logs are checked in-process.
"""

from __future__ import annotations

import json
import logging
import socket
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fixtures_bad_input import Workspace, make_workspace

from reconciler.api import ApiError, BriaClient, InvalidToken
from reconciler.api.redaction import REDACTED, RedactingFilter, redact, register_secret, unregister_secret

TOKEN = "bria-SECRET-4b9e2d71c0a8f365"
FRAGMENT = "SECRET-4b9e2d71"              # any piece of the token is a leak too

RUN_COMMANDS = [("plan", "--out", "saved-plan.json"), ("plan", "--format", "json"), ("apply", "--auto-approve"),
                ("plan", "--format", "markdown")]
READ_COMMANDS = [("show",), ("show", "--format", "json"), ("output",), ("output", "--format", "json"),
                 ("state", "list"), ("state", "pull"), ("plan", "--help")]


def assert_no_token_anywhere(ws: Workspace, outputs: list[str]) -> None:
    for text in outputs:
        assert FRAGMENT not in text, text
    for path in ws.root.rglob("*"):
        if path.is_file():
            assert FRAGMENT.encode() not in path.read_bytes(), f"token found in {path}"


def exercise(ws: Workspace) -> list[str]:
    """Every command that reads the token or the state; returns all their output."""
    outputs = []
    for args in RUN_COMMANDS:
        done = ws.run(*args)
        assert "Traceback" not in done.stderr, done.stderr
        outputs += [done.stdout, done.stderr]
    for done in ws.run_many(READ_COMMANDS):
        outputs += [done.stdout, done.stderr]
    return outputs


def _workspace(tmp_path: Path, base_url: str) -> Workspace:
    ws = make_workspace(tmp_path / "luna", base_url)
    ws.token = TOKEN
    return ws


def test_no_token_under_faults_and_dropped_responses(tmp_path: Path, emulator_server) -> None:
    ws = _workspace(tmp_path, emulator_server("--fault-rate", "0.3", "--drop-rate", "0.2", "--seed", "11",
                                              "--training-seconds", "3600"))
    outputs = exercise(ws)
    assert ws.stats()["faults"] + ws.stats()["dropped"] > 0, "the faults were not exercised"
    assert ws.state_file.exists() and (ws.root / "saved-plan.json").exists()
    assert_no_token_anywhere(ws, outputs)


def test_no_token_when_the_server_rejects_it(tmp_path: Path, emulator_server) -> None:
    ws = _workspace(tmp_path, emulator_server("--token", "some-other-token-1234"))
    outputs = exercise(ws)
    done = ws.run("apply", "--auto-approve")
    assert done.returncode == 1 and "401" in done.stderr, done.stderr
    assert_no_token_anywhere(ws, outputs + [done.stdout, done.stderr])


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"           # nothing listens there any more


@pytest.mark.slow   # the client retries a refused connection with backoff (~15 s); runs run concurrently
def test_no_token_when_the_connection_is_refused(tmp_path: Path) -> None:
    url = _refused_url()
    planning, applying = _workspace(tmp_path / "a", url), _workspace(tmp_path / "b", url)   # two locks
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(planning.run, "plan", "--out", "saved-plan.json"),
                pool.submit(applying.run, "apply", "--auto-approve")]
    for ws, run in zip((planning, applying), runs):
        done = run.result()
        assert done.returncode == 1 and "ConnectError" in done.stderr, done.stderr
        assert_no_token_anywhere(ws, [done.stdout, done.stderr])


def test_embedded_emulator_never_stores_the_exported_token(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "luna", "emulator")
    ws.token = TOKEN
    done = ws.run("apply", "--auto-approve")
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(ws.root.rglob("*.sqlite")), "the embedded emulator kept no data file"
    assert_no_token_anywhere(ws, [done.stdout, done.stderr])


UNSENDABLE_TOKENS = [f"{TOKEN}\nsecond-line", f"{TOKEN}é", f"{TOKEN}\x1b[2J", f"{TOKEN}\tx", f"{TOKEN} x"]


@pytest.mark.parametrize("token", UNSENDABLE_TOKENS)
def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(tmp_path: Path, emulator_server,
                                                                        token: str) -> None:
    ws = _workspace(tmp_path, emulator_server())
    ws.token = token
    for args in (("plan",), ("apply", "--auto-approve"), ("import", "project.luna", "1")):
        done = ws.run(*args)
        assert done.returncode == 1 and "BRIA_API_TOKEN" in done.stderr, done.stderr
        assert FRAGMENT not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert ws.requests() == 0
    assert_no_token_anywhere(ws, [])


# --- the client's own errors and debug logs ----------------------------------------------------


async def _failing_calls(base_url: str, token: str = TOKEN) -> list[Exception]:
    errors: list[Exception] = []
    async with BriaClient(base_url=base_url, token=token, max_retries=1, backoff_base=0.01) as client:
        assert FRAGMENT not in repr(client) and FRAGMENT not in str(vars(client).get("base_url"))
        for call in (client.list_projects(), client.create_project(project_name="x", ip_type="object",
                                                                   ip_medium="photography"),
                     client.get_dataset(1), client.delete_model(1)):
            try:
                await call
            except ApiError as exc:
                errors.append(exc)
    return errors


def _assert_clean(errors: list[Exception], caplog: pytest.LogCaptureFixture, expect_errors: bool = True,
                  expect_logs: bool = True) -> None:
    assert errors or not expect_errors
    for exc in errors:
        for text in (str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))):
            assert FRAGMENT not in text, text
    assert caplog.records or not expect_logs, "no debug log was captured"
    assert FRAGMENT not in caplog.text


@pytest.mark.parametrize("server_args", [("--token", "some-other-token-1234"),
                                         ("--fault-rate", "1", "--seed", "3"),
                                         ("--drop-rate", "1", "--seed", "3")])
async def test_client_errors_and_debug_logs_hold_no_token(emulator_server, caplog: pytest.LogCaptureFixture,
                                                          server_args: tuple[str, ...]) -> None:
    caplog.set_level(logging.DEBUG)               # root: httpx, httpcore and bria.api at their most verbose
    errors = await _failing_calls(emulator_server(*server_args))
    _assert_clean(errors, caplog)


async def test_client_error_on_a_refused_connection_holds_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors = await _failing_calls(_refused_url())
    assert len(errors) == 4 and all(exc.status is None for exc in errors)
    _assert_clean(errors, caplog)


@pytest.mark.parametrize("token", UNSENDABLE_TOKENS)
async def test_client_refuses_a_token_that_cannot_be_a_header(emulator_server, caplog: pytest.LogCaptureFixture,
                                                              token: str) -> None:
    """Sent, such a token would reach httpx/h11, whose errors quote the header value escaped
    (b'…\\n…'). The client refuses it when it is built, so it is never sent at all."""
    caplog.set_level(logging.DEBUG)
    base_url = emulator_server()
    with pytest.raises(InvalidToken) as refused:
        await _failing_calls(base_url, token=token)
    _assert_clean([refused.value], caplog, expect_logs=False)
    stats = httpx.get(f"{base_url.removesuffix('/v1')}/_emulator/stats", timeout=10).json()
    assert stats["requests"] == 0, stats


@pytest.mark.parametrize("token", [*UNSENDABLE_TOKENS, f'{TOKEN}\\"x'])
def test_redaction_covers_the_escaped_forms_of_a_token(token: str) -> None:
    """The second line of defence: a token shows up escaped in a repr, a bytes repr or JSON
    (a printable token with a backslash or a quote in it too), or one line of it at a time."""
    printed = [token, repr(token), repr(token.encode()), json.dumps(token), json.dumps(token, ensure_ascii=False),
               *token.splitlines()]
    register_secret(token)
    try:
        for text in printed:
            assert FRAGMENT not in redact(f"header value {text}!") and REDACTED in redact(text), text
            record = logging.LogRecord("httpcore.http11", logging.DEBUG, __file__, 1, "send %r", (text,), None)
            assert RedactingFilter().filter(record) and FRAGMENT not in record.getMessage(), text
    finally:
        unregister_secret(token)
