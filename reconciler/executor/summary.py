"""Plain-text account of an apply: what succeeded, what failed (with the API's message),
what was skipped and what never started — and `outputs`, the state facts later pipeline
steps need (`bria output`)."""

from __future__ import annotations

from typing import Any

from reconciler.executor.run import CANCELLED, FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, ApplyResult
from reconciler.model import address
from reconciler.status import is_known
from reconciler.state.model import State
from reconciler.textsafe import clean_text


def summary_lines(result: ApplyResult) -> list[str]:
    done = result.by_status(SUCCEEDED)
    failed = result.by_status(FAILED)
    skipped = result.by_status(SKIPPED)
    unfinished = result.by_status(CANCELLED) + result.by_status(NOT_STARTED)
    if result.fatal:
        head = "Apply stopped (state could not be saved)"
    elif result.cancelled:
        head = "Apply cancelled"
    elif failed or skipped or result.training_failed:
        head = "Apply partly done"
    else:
        head = "Apply complete"
    lines = [f"{head}: {len(done)} succeeded, {len(failed)} failed, {len(skipped)} skipped, "
             f"{len(unfinished)} not finished ({result.api_calls} API calls)."]
    lines += [f"  ✓ {o.address} ({', '.join(o.actions)})" for o in done]
    lines += [f"  ✗ {o.address}: {clean_text(o.message)}" for o in failed]
    lines += [f"  - {o.address}: skipped because {clean_text(o.message)}" for o in skipped]
    lines += [f"  · {o.address}: {o.status} ({clean_text(o.message)})" for o in unfinished]
    for address, status in sorted(result.training.items()):
        verb = "training ended" if result.waited else "training"
        mark = "✗ " if address in result.training_failed else ""
        if not is_known(status):
            lines.append(f"  {mark}{address}: the API reports status {clean_text(repr(status))}, which bria does "
                         "not know; no longer followed — check the model in Bria's console")
            continue
        lines.append(f"  {mark}{address}: {verb} {status}")
    if result.fatal:
        lines.append(f"The state could not be saved: {result.fatal}. Fix that before anything else; the "
                     "last saved state plus its journal let the next run pick up what happened since.")
    elif result.cancelled or failed or skipped:
        lines.append("State is saved; run `bria apply` again to resume.")
    return lines


def outputs(state: State) -> dict[str, Any]:
    """Per model: remote id, status, generation_prefix; per dataset/project: remote ids."""
    return {
        "projects": {k: {"remote_id": r.remote_id} for k, r in sorted(state.projects.items())},
        "datasets": {k: {"remote_id": r.current.remote_id if r.current else None,
                         "status": r.current.status if r.current else None,
                         "images": len(r.current.images) if r.current else 0,
                         "caption_prefix": r.current.caption_prefix if r.current else None,
                         "versions": [v.remote_id for v in r.versions]}
                     for k, r in sorted(state.datasets.items())},
        "models": {k: {"remote_id": m.remote_id, "status": m.status, "generation_prefix": m.generation_prefix,
                       "dataset": m.dataset, "dataset_remote_id": m.dataset_remote_id,
                       "training_version": m.training_version, "training_mode": m.training_mode,
                       "superseded": [s.remote_id for s in m.superseded]}
                   for k, m in sorted(state.models.items())},
    }


def output_lines(state: State) -> list[str]:
    data = outputs(state)
    lines = []
    for key, m in data["models"].items():
        lines.append(f"{address('model', key)}: id {m['remote_id']}, {m['status']}, "
                     f"generation_prefix {m['generation_prefix']!r}, dataset id {m['dataset_remote_id']}")
    for key, d in data["datasets"].items():
        lines.append(f"{address('dataset', key)}: id {d['remote_id']}, {d['status']}, {d['images']} images")
    for key, p in data["projects"].items():
        lines.append(f"{address('project', key)}: id {p['remote_id']}")
    return lines or ["(state is empty)"]
