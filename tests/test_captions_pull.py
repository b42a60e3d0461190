"""`bria captions pull`: pulled automatic captions are not a change; an edited one is exactly
one manual caption change; `--check` exits 2 on differences; edits not applied are kept."""

from __future__ import annotations

import json

from fixtures_apply import luna_images, luna_yaml, run_bria, write_case

EMBEDDED = "version: 1\napi:\n  endpoint: emulator\n  emulator:\n    training_seconds: 0\n"


def case(tmp_path, images: int = 3):
    yaml = luna_yaml().replace("version: 1\n", EMBEDDED, 1)
    write_case(tmp_path, yaml, luna_images(images))
    applied = run_bria("apply", "--auto-approve", "--wait", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return tmp_path


def test_pull_then_plan_is_unchanged_then_one_edit_is_one_manual_caption(tmp_path):
    root = case(tmp_path)
    check = run_bria("captions", "pull", "--check", cwd=root)
    assert check.returncode == 2 and check.stdout.count("differs from the API") == 3    # not pulled yet
    pulled = run_bria("captions", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stderr
    assert "3 caption sidecar(s) written" in pulled.stdout
    sidecars = sorted((root / "images/luna").glob("*.txt"))
    assert len(sidecars) == 3 and all(s.read_text().strip() for s in sidecars)
    assert run_bria("captions", "pull", "--check", cwd=root).returncode == 0
    plan = run_bria("plan", "--detailed-exitcode", cwd=root)
    assert plan.returncode == 0, plan.stdout + plan.stderr                              # not a change

    sidecars[1].write_text("Luna waving, hand-written caption\n", encoding="utf-8")
    plan = run_bria("plan", "--detailed-exitcode", "--format", "json", cwd=root)
    assert plan.returncode == 2, plan.stderr
    changes = json.loads(plan.stdout)["changes"]
    captions = [(c["address"], s["args"]["caption"]) for c in changes for s in c["steps"] if s["op"] == "set_caption"]
    assert captions == [("dataset.luna_v1", "Luna waving, hand-written caption")]
    dataset = next(c for c in changes if c["address"] == "dataset.luna_v1")
    assert dataset["images"]["caption"] == ["images/luna/" + sidecars[1].with_suffix(".png").name]
    assert dataset["images"]["upload"] == [] and dataset["images"]["delete"] == []

    # The edit is not applied yet: pull keeps it (and says so); --check reports it.
    again = run_bria("captions", "pull", cwd=root)
    assert again.returncode == 0 and "holds an edit not applied yet" in again.stderr
    assert sidecars[1].read_text() == "Luna waving, hand-written caption\n"
    assert run_bria("captions", "pull", "--check", cwd=root).returncode == 2
    forced = run_bria("captions", "pull", "--force", cwd=root)
    assert forced.returncode == 0 and sidecars[1].read_text() != "Luna waving, hand-written caption\n"
    assert run_bria("plan", "--detailed-exitcode", cwd=root).returncode == 0


def test_after_a_prefix_change_stale_pulled_captions_stay_automatic(tmp_path):
    root = case(tmp_path)
    assert run_bria("captions", "pull", cwd=root).returncode == 0
    before = {s.name: s.read_text() for s in (root / "images/luna").glob("*.txt")}
    manifest = root / "bria.yaml"
    manifest.write_text(manifest.read_text().replace("    name: Luna training set\n",
                                                     "    name: Luna training set\n    caption_prefix: A drawing of Luna, \n"))
    plan = run_bria("plan", "--format", "json", cwd=root)
    ops = [s["op"] for c in json.loads(plan.stdout)["changes"] for s in c["steps"]]
    assert "regenerate_all_captions" in ops and "set_caption" not in ops        # pulled ≠ manual
    assert run_bria("apply", "--auto-approve", "--wait", cwd=root).returncode == 0
    # The sidecars now hold the old automatic captions: still not a change …
    assert run_bria("plan", "--detailed-exitcode", cwd=root).returncode == 0
    assert run_bria("captions", "pull", "--check", cwd=root).returncode == 2
    # … and pulling again replaces them (they are a stale pull, not an edit waiting to be applied).
    pulled = run_bria("captions", "pull", cwd=root)
    assert "3 caption sidecar(s) written" in pulled.stdout and "not applied yet" not in pulled.stderr
    after = {s.name: s.read_text() for s in (root / "images/luna").glob("*.txt")}
    assert after.keys() == before.keys() and all(after[n] != before[n] for n in after)
    assert run_bria("captions", "pull", "--check", cwd=root).returncode == 0
    assert run_bria("plan", "--detailed-exitcode", cwd=root).returncode == 0


def test_pull_of_an_unknown_dataset_is_bad_input(tmp_path):
    write_case(tmp_path, luna_yaml().replace("version: 1\n", EMBEDDED, 1), luna_images(1))
    result = run_bria("captions", "pull", "nope", cwd=tmp_path)
    assert result.returncode == 1 and "dataset.nope" in result.stderr and "Traceback" not in result.stderr
