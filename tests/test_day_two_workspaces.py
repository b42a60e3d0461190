"""Workspaces: one manifest, staging and prod, each with its own state (`--workspace` /
BRIA_WORKSPACE), for the local file backend and PostgreSQL."""

from __future__ import annotations

import json

from fixtures_apply import luna_images, luna_yaml, run_bria


def test_one_manifest_serves_two_workspaces(tmp_path, emulator_server, cli_backend):
    url = emulator_server("--training-seconds", "600")
    env = {"BRIA_API_URL": url, **cli_backend.env}
    cli_backend.write_case(tmp_path, luna_yaml(), luna_images(1))
    staging = run_bria("apply", "--auto-approve", "--workspace", "staging", cwd=tmp_path, env=env)
    assert staging.returncode == 0, staging.stderr
    # Nothing recorded for prod yet: its plan creates everything again.
    prod_plan = run_bria("plan", "--format", "json", cwd=tmp_path, env={**env, "BRIA_WORKSPACE": "prod"})
    assert json.loads(prod_plan.stdout)["summary"]["add"] == 3
    assert run_bria("--workspace=staging", "plan", "--detailed-exitcode", cwd=tmp_path, env=env).returncode == 0
    out = json.loads(run_bria("output", "--format", "json", "--workspace", "staging", cwd=tmp_path, env=env).stdout)
    assert out["models"]["model.luna_max"]["newest"]["status"] == "InProgress"

    if cli_backend.name == "local":
        assert (tmp_path / "state/bria.staging.json").is_file()
        assert not (tmp_path / "state/bria.json").exists() and not (tmp_path / "state/bria.prod.json").exists()
    else:
        import psycopg

        with psycopg.connect(cli_backend.dsn, autocommit=True) as conn:
            rows = dict(conn.execute("SELECT workspace, serial FROM bria_state WHERE workspace IN ('staging', "
                                     "%s)", (cli_backend.workspace(tmp_path),)).fetchall())
        assert rows.get("staging", 0) > 0 and not rows.get(cli_backend.workspace(tmp_path))
    bad = run_bria("plan", "--workspace", "../etc", cwd=tmp_path, env=env)
    assert bad.returncode == 1 and "workspace '../etc'" in bad.stderr
