"""BRIA_LOG: diagnostic logs on stderr, off by default, with the token redacted everywhere."""

from __future__ import annotations

from fixtures_apply import luna_images, luna_yaml, run_bria, write_case

TOKEN = "tok-LOGGING-very-distinctive-9f3a"


def test_debug_logs_show_requests_and_never_the_token(tmp_path, emulator_server):
    url = emulator_server()
    write_case(tmp_path, luna_yaml(), luna_images(2))
    env = {"BRIA_API_URL": url, "BRIA_API_TOKEN": TOKEN, "BRIA_LOG": "debug"}
    applied = run_bria("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stderr
    assert "POST /tailored-gen/projects" in applied.stderr          # the logs are really on
    assert "httpx" in applied.stderr                                # third-party loggers too
    planned = run_bria("plan", cwd=tmp_path, env=env)
    assert planned.returncode == 0
    for text in (applied.stdout, applied.stderr, planned.stdout, planned.stderr):
        assert TOKEN not in text


def test_logging_is_off_by_default_and_a_bad_level_is_a_warning(tmp_path):
    write_case(tmp_path, luna_yaml(), luna_images(1))
    quiet = run_bria("validate", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = run_bria("validate", cwd=tmp_path, env={"BRIA_LOG": "loud"})
    assert loud.returncode == 0
    assert "BRIA_LOG='loud' is not one of" in loud.stderr
