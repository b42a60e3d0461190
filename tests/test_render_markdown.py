"""The Markdown view for pull-request comments: summary first, folded details, size limit,
and escaping checked by rendering the Markdown to HTML with a CommonMark parser."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt   # CommonMark parser; installed with rich

from fixtures_render import (SAMPLE_PLANS, sample_plan_clone, sample_plan_drift,
                             sample_plan_empty, sample_plan_full_create, sample_plan_hostile,
                             sample_plan_huge, sample_plan_notes_only, sample_plan_refused)
from reconciler.render.markdown import md_code, md_text, render_plan
from reconciler.render.outline import clean

_FENCE = re.compile(r"^(`{3,})diff$", re.M)


def _md(plan, **kw) -> str:
    return render_plan(plan.to_dict(), **kw)


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def _diff_block(text: str) -> list[str]:
    match = _FENCE.search(text)
    assert match, "no diff block"
    end = text.index("\n" + match.group(1) + "\n", match.end())
    return text[match.end() + 1:end].split("\n")


def test_empty_plan_is_a_short_comment_without_details():
    text = _md(sample_plan_empty())
    assert "**No changes. Your Bria resources match the manifest.**" in text
    assert "<details>" not in text


def test_summary_comes_first_and_details_are_folded_in_a_diff_block():
    text = _md(sample_plan_full_create())
    summary = "**Plan: 3 to add, 0 to change, 0 to destroy; 200 images to upload; 1 model to train.**"
    assert text.index(summary) < text.index("<details><summary>Plan details: 3 changes</summary>")
    lines = _diff_block(text)
    assert "+ project.luna" in lines
    # Markdown lists every image change (the comment's size budget is the only limit).
    assert any(l.startswith("#") and "images: 200 to upload" in l for l in lines)
    assert sum(1 for l in lines if l.startswith("+") and l.strip().endswith(".png")) == 200
    assert text.rstrip().endswith("</details>")
    assert "cut to fit" not in text


def test_diff_lines_carry_the_symbol_in_the_first_column():
    lines = _diff_block(_md(sample_plan_clone()))
    assert "+/~ dataset.luna_v1" in lines
    assert any(l.startswith("-") and "images/luna/old.png" in l for l in lines)
    assert any(l.startswith("!") and "KEPT (recorded as superseded" in l for l in lines)


def test_refusals_and_drift_are_callouts_in_the_summary():
    refused = _md(sample_plan_refused())
    head = refused[:refused.index("<details>")]
    assert "> [!CAUTION]" in head
    assert "`--allow-destroy model.old_max --allow-destroy project.luna`" in head
    assert "> - `model.old_max`: would destroy a trained model" in head
    assert "model.spare" not in head                   # protected but allowed: not a refusal
    drift = _md(sample_plan_drift())
    head = drift[:drift.index("<details>")]
    assert "> [!WARNING]" in head
    assert "> - `model.luna_max` was changed (`name`)" in head
    assert "> - `dataset.luna_v1` was deleted" in head


def test_notes_are_a_callout():
    text = _md(sample_plan_notes_only())
    assert "> [!NOTE]\n> - model\\.luna\\_max: training InProgress" in text
    assert "No changes" in text


def test_huge_plan_fits_the_limit_and_points_to_the_json_plan():
    plan = sample_plan_huge(datasets=25, images=200, models_per_dataset=12)
    text = _md(plan, json_hint="full plan: plan.json artifact")
    assert len(text) <= 60000
    assert "The details were cut to fit a comment" in text
    assert text.rstrip().endswith("full plan: plan.json artifact")
    assert "**Plan: 326 to add, 0 to change, 0 to destroy; 5000 images to upload; 300 models to train.**" in text
    # cut at a line boundary: the kept lines are exactly the start of the uncut details
    full = _diff_block(_md(plan, max_chars=10_000_000))
    kept = _diff_block(text)
    assert 100 < len(kept) < len(full) and full[:len(kept)] == kept
    html = _html(text)
    assert html.count("<details>") == 1 and html.count("</details>") == 1


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.95])
def test_any_limit_is_respected(fraction):
    plan = sample_plan_huge(datasets=3, images=50)
    limit = int(len(_md(plan)) * fraction)
    text = _md(plan, max_chars=limit)
    assert len(text) <= limit
    assert "cut to fit" in text


def test_default_hint_names_the_json_format():
    text = _md(sample_plan_huge(datasets=25, images=200, models_per_dataset=12))
    assert "`bria plan --format json`" in text


def test_hostile_names_cannot_break_out_of_markdown_or_html():
    text = _md(sample_plan_hostile())
    assert "\x1b" not in text
    html = _html(text)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert html.count("</details>") == 1 and html.count("</summary>") == 1
    assert "<strong>bold</strong>" not in html
    # the whole plan detail stayed inside one code block
    assert html.count("<pre><code") == 1
    fence = _FENCE.search(text).group(1)
    inner = "\n".join(_diff_block(text))
    assert max(len(r) for r in re.findall(r"`+", inner)) < len(fence)
    assert "dataset.ev`il&lt;b&gt;" in html             # shown, literally


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.mark.parametrize("raw", ["a`b", "``x``", "`", "<b>x</b>", "line\nbreak", "*x* _y_ [l](u)",
                                 "a & b &amp; \\ # + - ! | ~"])
def test_md_code_and_md_text_render_the_text_literally(raw):
    shown = clean(raw)                                  # control characters made visible
    assert _html(md_code(raw)) == f"<p><code>{_escaped(shown)}</code></p>\n"
    assert _html(md_text(raw)) == f"<p>{_escaped(shown)}</p>\n"


@pytest.mark.parametrize("name", sorted(SAMPLE_PLANS))
def test_every_sample_renders_one_well_formed_comment(name):
    text = _md(SAMPLE_PLANS[name]())
    assert text.startswith("### bria plan\n") and text.endswith("\n")
    html = _html(text)
    assert html.count("<details>") == html.count("</details>") <= 1


def test_a_plan_exactly_at_the_limit_is_not_cut():
    plan = sample_plan_clone()
    whole = _md(plan, max_chars=10**6)
    assert _md(plan, max_chars=len(whole)) == whole
    cut = _md(plan, max_chars=len(whole) - 1)
    assert len(cut) < len(whole) and "cut to fit" in cut and cut.count("</details>") == 1
