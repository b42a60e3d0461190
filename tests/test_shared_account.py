"""Safe in a shared account (issue 10), through a real `bria emulator serve`:

- two states (staging, prod) on one account and one token never adopt each other's objects,
  whether prod's create responses are all dropped or prod is killed right after creates;
  destroying prod leaves staging untouched;
- a lost state never silently re-creates (the plan names the look-alikes and the import
  commands); `bria import --discover` restores a state whose plan is empty, with no new
  object and no new training;
- a state pointed at another account's token, or another endpoint, refuses to plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_apply import luna_images, luna_yaml, write_case
from fixtures_faultproxy import SHARED_TOKEN, account, bria, trainings_started
from reconciler.state.model import State

# Both environments use the same names: staging's project is a deliberate look-alike of prod's.
TWO_STATE_YAML = luna_yaml().replace("    ip_description: girl with blue hair\n",
                                     "    ip_description: girl with blue hair\n    allow_duplicate_name: true\n")


def state_ids(root: Path) -> dict[str, set[int]]:
    state = State.from_dict(__import__("json").loads((root / "state" / "bria.json").read_text()))
    assert state.journal == ()
    return {"projects": {p.remote_id for p in state.projects.values()},
            "datasets": {v.remote_id for d in state.datasets.values() for v in d.versions},
            "models": {m.remote_id for m in state.models.values()} | {
                s.remote_id for m in state.models.values() for s in m.superseded}}


def assert_each_state_holds_only_its_own(url: str, staging: Path, prod: Path) -> None:
    live = account(url, SHARED_TOKEN)
    mine, theirs = state_ids(prod), state_ids(staging)
    for kind in ("projects", "datasets", "models"):
        assert not mine[kind] & theirs[kind], f"prod adopted staging's {kind}: {mine[kind] & theirs[kind]}"
        assert set(live[kind]) == mine[kind] | theirs[kind], f"untracked or duplicate {kind}: {live[kind].keys()}"
    for dataset_id, images in live["images"].items():
        names = [i["image_name"] for i in images]
        assert len(names) == len(set(names)), f"duplicate images in dataset {dataset_id}"


def destroy_prod_and_check_staging(url: str, staging: Path, prod: Path, prod_url: str | None = None) -> None:
    before = account(url, SHARED_TOKEN)
    staging_ids = state_ids(staging)
    destroyed = bria(prod, prod_url or url, "destroy", "--auto-approve", "--allow-destroy", "all")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    after = account(url, SHARED_TOKEN)
    for kind in ("projects", "datasets", "models"):
        assert set(after[kind]) == staging_ids[kind], kind
        assert all(after[kind][i] == before[kind][i] for i in staging_ids[kind]), f"staging's {kind} changed"
    plan = bria(staging, url, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.slow
def test_two_states_on_one_token_with_every_create_response_dropped(tmp_path, emulator_server, fault_proxy):
    url = emulator_server("--training-seconds", "600")
    staging = write_case(tmp_path / "staging", TWO_STATE_YAML, luna_images(2)).parent
    prod = write_case(tmp_path / "prod", TWO_STATE_YAML, luna_images(2)).parent
    assert bria(staging, url, "apply", "--auto-approve").returncode == 0
    # Every POST of prod's reaches the API and commits, and its answer never comes back.
    proxy, prod_url = fault_proxy(url, drop_rate=1.0)
    applied = bria(prod, prod_url, "apply", "--auto-approve", "--settle-window", "1")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert proxy.counts["dropped"] >= 5     # project, dataset, 2 uploads, model (+ training start)
    assert_each_state_holds_only_its_own(url, staging, prod)
    # (prod's state records the gateway's endpoint: prod keeps going through it)
    assert bria(prod, prod_url, "plan", "--detailed-exitcode").returncode == 0
    destroy_prod_and_check_staging(url, staging, prod, prod_url)


@pytest.mark.slow
def test_two_states_on_one_token_with_prod_killed_after_each_create(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    staging = write_case(tmp_path / "staging", TWO_STATE_YAML, luna_images(2)).parent
    prod = write_case(tmp_path / "prod", TWO_STATE_YAML, luna_images(2)).parent
    assert bria(staging, url, "apply", "--auto-approve").returncode == 0
    # Kill right after: the project create (call 2, after the watermark list), then in each
    # resumed run right after its first call — the dataset create, an upload, the complete,
    # the model create — so every create's result is first learnt by the journal.
    for kill in ("2", "1", "1", "1", "2", "1"):
        killed = bria(prod, url, "apply", "--auto-approve", "--settle-window", "1",
                      BRIA_TEST_KILL_AFTER_CALLS=kill)
        assert killed.returncode in (-9, 0), killed.stdout + killed.stderr
    final = bria(prod, url, "apply", "--auto-approve", "--settle-window", "1")
    assert final.returncode == 0, final.stdout + final.stderr
    assert_each_state_holds_only_its_own(url, staging, prod)
    assert bria(prod, url, "plan", "--detailed-exitcode").returncode == 0
    destroy_prod_and_check_staging(url, staging, prod)


@pytest.mark.slow
def test_a_lost_state_creates_nothing_and_import_discover_restores_it(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    root = write_case(tmp_path / "m", luna_yaml(), luna_images(3)).parent
    assert bria(root, url, "apply", "--auto-approve").returncode == 0
    before, trained = account(url, SHARED_TOKEN), trainings_started(url)
    project_id = next(iter(before["projects"]))
    for name in ("bria.json", "bria.json.backup"):
        (root / "state" / name).unlink(missing_ok=True)

    plan = bria(root, url, "plan", "--detailed-exitcode")
    assert plan.returncode == 6, plan.stdout + plan.stderr
    assert f"bria import project.luna {project_id}" in plan.stdout
    applied = bria(root, url, "apply", "--auto-approve")
    assert applied.returncode == 6 and "refusing to create duplicates" in applied.stderr, applied.stderr
    assert account(url, SHARED_TOKEN) == before

    # Without confirmation nothing is written; with it, the discovered imports are recorded.
    shown = bria(root, url, "import", "--discover")
    assert shown.returncode == 1 and f"import project.luna {project_id}" in shown.stdout, shown.stdout
    assert not (root / "state" / "bria.json").exists()
    restored = bria(root, url, "import", "--discover", "--auto-approve")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    plan = bria(root, url, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert account(url, SHARED_TOKEN) == before and trainings_started(url) == trained


def test_the_same_state_with_another_token_or_endpoint_refuses_to_plan(tmp_path, emulator_server):
    url = emulator_server("--training-seconds", "600")
    root = write_case(tmp_path / "m", luna_yaml(), luna_images(2)).parent
    assert bria(root, url, "apply", "--auto-approve").returncode == 0
    state_text = (root / "state" / "bria.json").read_text()
    assert f'"endpoint": "{url}"' in state_text and SHARED_TOKEN not in state_text

    for command in (("plan",), ("apply", "--auto-approve")):
        refused = bria(root, url, *command, token="another-accounts-token")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "missing from the account" in refused.stderr and "token" in refused.stderr
    assert account(url, "another-accounts-token")["projects"] == {}

    other = emulator_server("--training-seconds", "600")
    refused = bria(root, other, "plan")
    assert refused.returncode == 1 and f"made against {url}" in refused.stderr, refused.stderr
    assert account(other, SHARED_TOKEN)["projects"] == {}
    # The explicit flag proceeds: the plan then shows the re-creation.
    accepted = bria(root, url, "plan", "--accept-missing", "--detailed-exitcode", token="another-accounts-token")
    assert accepted.returncode == 2, accepted.stdout + accepted.stderr
