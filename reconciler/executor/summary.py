"""Plain-text account of an apply: what succeeded, what failed (with the API's message),
what was skipped and what never started (`bria output` is reconciler/render/outputs.py)."""

from __future__ import annotations

from reconciler.executor.run import CANCELLED, FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, ApplyResult
from reconciler.status import RUNNING, is_known
from reconciler.textsafe import clean_text


def summary_lines(result: ApplyResult) -> list[str]:
    # A change whose training then ended Failed/Stopped under --wait did not get its model:
    # it counts as failed, so the counts agree with the training lines below.
    done = [o for o in result.by_status(SUCCEEDED) if o.address not in result.training_failed]
    failed = result.by_status(FAILED) + [o for o in result.by_status(SUCCEEDED)
                                         if o.address in result.training_failed]
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
             f"{len(unfinished)} not finished ({result.api_calls} API call{'' if result.api_calls == 1 else 's'})."]
    lines += [f"  ✓ {o.address} ({', '.join(o.actions)})" for o in done]
    lines += [f"  ✗ {o.address}: {clean_text(o.message)}" for o in failed if o.address not in result.training_failed]
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
    if result.cancelled and any(s in RUNNING for s in result.training.values()):
        lines.append("Training goes on in the API; `bria wait` follows it to the end.")
    return lines
