"""The terminal view: sections, symbols, folding, refusals, drift, notes and colour."""

from __future__ import annotations

import io
import json
import re

import pytest

from fixtures_render import (HOSTILE_NAME, SAMPLE_PLANS, sample_plan_clone, sample_plan_drift,
                             sample_plan_empty, sample_plan_full_create, sample_plan_notes_only,
                             sample_plan_refused)
from reconciler.render import json as json_view
from reconciler.render.human import render_plan, should_color


def _render(plan, **kw) -> str:
    kw.setdefault("color", False)
    return render_plan(plan.to_dict(), **kw)


def test_empty_plan_says_no_changes():
    assert _render(sample_plan_empty()) == "No changes. Your Bria resources match the manifest.\n"


def test_full_create_lists_resources_and_folds_200_images():
    text = _render(sample_plan_full_create())
    lines = text.splitlines()
    assert "  + project.luna" in lines
    assert "  + dataset.luna_v1" in lines
    assert "  # model.luna_max will be created and trained" in lines
    assert any("200 images to upload (first 7 shown)" in l for l in lines)
    listed = [l for l in lines if "images/luna_v1/img_" in l]
    assert len(listed) == 10                          # the max_image_lines budget
    assert "img_199" not in text
    assert lines[-1] == ("Plan: 3 to add, 0 to change, 0 to destroy; "
                         "200 images to upload; 1 model to train.")


def test_image_budget_lists_everything_when_large_enough_and_only_counts_at_zero():
    everything = _render(sample_plan_full_create(), max_image_lines=1000)
    assert sum("images/luna_v1/img_" in l for l in everything.splitlines()) == 203
    assert "first" not in everything
    counts_only = _render(sample_plan_full_create(), max_image_lines=0)
    assert "images/luna_v1/img_" not in counts_only
    assert "200 images to upload\n" in counts_only


def test_clone_and_model_replacement_say_the_old_objects_are_kept():
    text = _render(sample_plan_clone())
    lines = text.splitlines()
    assert "  +/~ dataset.luna_v1" in lines
    assert "  +/~ model.luna_max" in lines
    assert any("completed version #12" in l and "KEPT" in l for l in lines)
    assert any('old model #7 "Luna max" is KEPT (recorded as superseded, not deleted)' in l for l in lines)
    assert any(l.strip() == "+/~ create a new version; the old one is KEPT (not destroyed)" for l in lines)
    assert "reason: replace because dataset changed" in text
    # every image of a short change is listed, with its own symbol
    assert "          + images/luna/new_a.png" in lines
    assert "          - images/luna/old.png" in lines
    assert "          ~ images/luna/wave.png (caption set)" in lines
    assert "Plan: 2 to add, 0 to change, 0 to destroy; 2 images to upload; 1 model to train." in lines
    assert " - model" not in text and "will be destroyed" not in text


def test_refused_and_protected_changes_are_marked():
    text = _render(sample_plan_refused())
    lines = text.splitlines()
    assert ("      ! refused: would destroy a trained model; "
            "re-run with --allow-destroy model.old_max") in lines
    assert "  -/+ project.luna  [protected]" in lines
    assert any("refused: would destroy a project" in l and "--allow-destroy project.luna" in l
               for l in lines)
    spare = lines.index("  - model.spare (remote #10)  [protected]")
    assert lines[spare + 1].strip().startswith("! protected: destroys a trained model")
    assert "--allow-destroy model.spare" not in text
    assert lines[-1].startswith("Error: 2 change(s) refused")
    assert "--allow-destroy model.old_max --allow-destroy project.luna" in lines[-1]


def test_drift_comes_first_and_noops_are_hidden():
    text = _render(sample_plan_drift())
    assert text.index("Objects changed outside bria") < text.index("Bria will perform")
    assert '      ~ name: "Luna max" → "Luna (console)"' in text.splitlines()
    assert "dataset.luna_v1 (remote #12) was deleted outside bria" in text
    assert "project.luna" not in text                  # its only change is a no-op
    assert "model.luna_expert will stop training (irreversible" in text
    assert "# model.luna_light will start training" in text
    assert "reason: recreate because deleted outside bria" in text


def test_notes_are_shown_with_no_changes():
    text = _render(sample_plan_notes_only())
    assert "Notes:\n  - model.luna_max: training InProgress (started 2024-05-01T10:00:00Z)\n" in text
    assert text.endswith("No changes. Your Bria resources match the manifest.\n")


@pytest.mark.parametrize("name", sorted(SAMPLE_PLANS))
def test_no_ansi_escapes_without_colour(name):
    text = _render(SAMPLE_PLANS[name]())
    assert "\x1b" not in text                          # even the hostile name's ESC is shown escaped


def test_colour_adds_ansi_escapes_and_nothing_else():
    plan = sample_plan_refused().to_dict()
    coloured = render_plan(plan, color=True)
    assert "\x1b[31m" in coloured and "\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_plan(plan, color=False)


def test_hostile_text_cannot_inject_terminal_codes_or_lines():
    text = _render(SAMPLE_PLANS["hostile"](), width=400)
    assert "\\u001b[31mred" in text
    assert "\nnext" not in text                        # the embedded newline stays escaped
    assert HOSTILE_NAME.splitlines()[0][:30] in text


def test_long_values_are_folded_to_the_width_never_cut():
    plan = sample_plan_full_create()
    d = plan.to_dict()
    long_text = "a paper-cut style illustration of " * 15
    d["changes"][0]["after"]["ip_description"] = long_text
    lines = render_plan(d, color=False, width=60).splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "+ ip_description:")
    folded = []
    for line in lines[start + 1:]:
        if not line.startswith("          + "):
            break
        assert len(line) <= 60
        folded.append(line.removeprefix("          + "))
    assert "".join(folded) == json.dumps(long_text), "every character is kept"
    assert "…" not in "\n".join(lines)


def test_a_saved_plan_renders_exactly_like_a_fresh_one():
    for make in SAMPLE_PLANS.values():
        fresh = make().to_dict()
        saved = json.loads(json_view.render_plan(fresh))
        assert render_plan(saved, color=False) == render_plan(fresh, color=False)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_should_color_needs_a_tty_and_no_NO_COLOR():
    assert should_color(_Tty(), environ={}) is True
    assert should_color(_Tty(), environ={"NO_COLOR": ""}) is True      # empty = unset (no-color.org)
    assert should_color(_Tty(), environ={"NO_COLOR": "1"}) is False
    assert should_color(io.StringIO(), environ={}) is False
    closed = io.StringIO()
    closed.close()                                                      # isatty() would raise
    assert should_color(closed, environ={}) is False
    assert should_color(object(), environ={}) is False                  # not a stream at all


def test_should_color_reads_the_environment_by_default(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "yes")
    assert should_color(_Tty()) is False
    monkeypatch.delenv("NO_COLOR")
    assert should_color(_Tty()) is True


def test_keys_only_in_before_show_as_gone_only_when_the_object_goes():
    from reconciler.model import Action, Change, Plan
    update = Change("model.m", (Action.UPDATE,), "update_in_place", (),
                    before={"name": "a", "status": "Completed"}, after={"name": "b"})
    delete = Change("model.d", (Action.DELETE,), "delete_because_removed_from_manifest", (),
                    before={"name": "d", "status": "Completed"})
    text = render_plan(Plan(changes=(update, delete)).to_dict(), color=False)
    assert '      ~ name: "a" → "b"' in text
    assert text.count('status: "Completed"') == 1
    assert '      - status: "Completed"' in text.split("model.d")[-1]


def test_bidi_overrides_and_separators_are_made_visible():
    from reconciler.render.outline import clean
    assert clean("abc\u202edef\u2028x\u2066") == "abc\\u202edef\\u2028x\\u2066"
    assert clean("Luna — ünïcode ✓") == "Luna — ünïcode ✓"


def test_no_change_plan_with_drift_does_not_claim_everything_matches():
    """A kept stray image is drift with no change: the last line must not say "match"."""
    from reconciler.model import Drift, Plan
    from reconciler.render.human import render_plan

    plan = Plan(changes=(), drift=(Drift("dataset.d", "changed", 3,
                                         {"images_added": {"expected": [], "actual": ["x.png"]}}),))
    text = render_plan(plan.to_dict(), color=False)
    assert "match the manifest" not in text
    assert text.rstrip().endswith("No changes to apply; see the changes made outside bria above.")
    clean = render_plan(Plan(changes=()).to_dict(), color=False)
    assert clean.rstrip().endswith("No changes. Your Bria resources match the manifest.")
