"""`bria plan` / `apply` / `destroy` against a `bria emulator serve` that answers like a
misconfigured endpoint or a stuck gateway: exit 1 with a clear message, never a traceback,
and a bounded time (--refresh-timeout) with a visible waiting line on stderr."""

from __future__ import annotations

import json
import time

import pytest

from fixtures_apply import luna_images, luna_yaml, run_bria, write_case


def _case(tmp_path):
    root = tmp_path / "case"
    write_case(root, luna_yaml(train=False), luna_images(1))
    return root


def _assert_clean_failure(result, *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


REDIRECT = ("redirect (HTTP 302) to login.example.net", "api.endpoint")
HTML = ("something that is not JSON (text/html", "Sign in")


@pytest.mark.parametrize(("reply", "needles", "command"), [
    ("redirect", REDIRECT, ("plan",)),
    ("html", HTML, ("plan", "--format", "json")),
    ("truncated", ("something that is not JSON (application/json", '[{"id": 1'), ("plan",)),
    ("html", HTML, ("apply", "--auto-approve")),
    ("redirect", REDIRECT, ("destroy", "--auto-approve")),
])
def test_odd_endpoint_answers_are_clear_errors(emulator_server, tmp_path, reply, needles, command):
    url = emulator_server("--odd-reply", reply)
    result = run_bria(*command, cwd=_case(tmp_path), env={"BRIA_API_URL": url})
    _assert_clean_failure(result, *needles)
    assert result.stdout == "" or command[0] != "plan"


@pytest.mark.slow
def test_a_server_that_never_answers_fails_within_the_refresh_deadline(emulator_server, tmp_path):
    url = emulator_server("--odd-reply", "hang")
    started = time.monotonic()
    result = run_bria("plan", "--format", "json", "--refresh-timeout", "4", cwd=_case(tmp_path),
                      env={"BRIA_API_URL": url}, timeout=60)
    elapsed = time.monotonic() - started
    _assert_clean_failure(result, "no complete answer from the API within 4 s", "--refresh-timeout",
                          "waiting for the API…")
    assert result.stdout == ""                      # the waiting line is on stderr, never in JSON stdout
    assert elapsed < 30                             # bounded: 4 s deadline plus start-up, not minutes


def test_an_image_refused_with_413_is_a_failed_step_not_a_traceback(emulator_server, tmp_path):
    url = emulator_server("--max-image-bytes", "100")
    result = run_bria("apply", "--auto-approve", cwd=_case(tmp_path), env={"BRIA_API_URL": url})
    assert result.returncode == 5 and "Traceback" not in result.stderr + result.stdout   # partly done
    assert "Bria refuses images above 12 MB" in result.stdout
    state = json.loads((tmp_path / "case" / "state" / "bria.json").read_text())
    assert state["journal"] == []                    # a definite refusal: nothing left to resolve
