"""Planning for datasets (design.md §3).

A draft is edited in place. A completed dataset is frozen: any change to its images,
captions or caption prefix makes a NEW VERSION — clone it as a draft, change the clone,
complete it — and the models trained on it are replaced (see models.py). Only the name is
updated in place on a completed dataset.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import AUTO_PREFIX, Action, Change, DatasetSpec, Drift, ImageChanges, Op, Step, address
from reconciler.planner.content import (UNKNOWN, ActualVersion, content_plan, desired_images, prefix_steps,
                                        upload_step, version_from_live, version_from_state)
from reconciler.planner.context import Findings, PlanInputs
from reconciler.state.model import DatasetRecord

COMPLETED = "completed"


def plan_datasets(inputs: PlanInputs, out: Findings) -> None:
    for spec in inputs.manifest.datasets.values():
        _plan_dataset(inputs, out, spec)
    for key in sorted(set(inputs.state.datasets) - set(inputs.manifest.datasets)):
        _plan_removal(inputs, out, key)


def desired_summary(spec: DatasetSpec, actual: ActualVersion | None, pinned: str | None) -> dict[str, Any]:
    """The manifest's side of a dataset, with the same keys as ActualVersion.summary()."""
    prefix = spec.caption_prefix
    if prefix is None:
        prefix = actual.caption_prefix if actual else "(API default)"    # left as the API has it
    elif prefix == AUTO_PREFIX:
        prefix = pinned or "auto (generated)"
    summary = {"name": spec.name, "status": COMPLETED if spec.complete else "draft", "caption_prefix": prefix,
               "images": len(desired_images(spec))}
    return summary if actual else {"project": spec.project, **summary}


def _plan_dataset(inputs: PlanInputs, out: Findings, spec: DatasetSpec) -> None:
    record = inputs.state.datasets.get(spec.key)
    current = record.current if record else None
    if record is None or current is None:
        _create(out, spec, "create", record)
        return
    before = version_from_state(current).summary()
    if spec.project in out.replaced_projects:
        # The project's deletion takes every version with it; the ip fields that shaped an
        # automatic prefix changed, so it is generated again.
        _create(out, spec, "recreate_because_project_replaced", record, before, regenerate_prefix=True)
        return
    if record.project != spec.project:
        _create(out, spec, "recreate_because_project_changed", record, before)
        return
    live = inputs.live_dataset(spec.key)
    if live is None:
        out.drift.append(Drift(spec.address, "deleted", current.remote_id))
        _create(out, spec, "recreate_because_deleted_outside_bria", record, before)
        return
    actual = version_from_live(live, current, (i.sha256 for i in spec.images))
    drifted = _report_drift(out, spec, record, actual)
    if actual.status == COMPLETED:
        _plan_completed(out, spec, record, actual, drifted)
    else:
        _plan_draft(out, spec, record, actual, drifted)


def _create(out: Findings, spec: DatasetSpec, reason: str, record: DatasetRecord | None,
            before: dict[str, Any] | None = None, *, regenerate_prefix: bool = False) -> None:
    """The full create sequence: create, prefix, uploads (with manual captions), complete.

    A recreated dataset keeps its record: the new version is appended to the chain (the old,
    gone ones stay as history) and a pinned automatic prefix is reused."""
    pinned = record.pinned_prefix if record else None
    steps = [Step(Op.CREATE_DATASET, {"name": spec.name, "project": spec.project})]
    steps.extend(prefix_steps(spec, UNKNOWN, pinned, regenerate=regenerate_prefix))
    uploads = list(desired_images(spec).values())
    steps.extend(upload_step(i, spec.increase_resolution) for i in uploads)
    if spec.complete:
        steps.append(Step(Op.COMPLETE_DATASET, {}))
    out.renewed_datasets.add(spec.key)
    out.completed_after[spec.key] = spec.complete
    out.add(Change(address=spec.address, actions=(Action.CREATE,), reason=reason, steps=tuple(steps),
                   before=before, after=desired_summary(spec, None, None if regenerate_prefix else pinned),
                   images=ImageChanges(upload=tuple(i.rel_path for i in uploads))))


def _plan_completed(out: Findings, spec: DatasetSpec, record: DatasetRecord, actual: ActualVersion,
                    drifted: bool) -> None:
    content = content_plan(spec, actual, record.pinned_prefix)
    if not content.empty:
        steps = [Step(Op.CLONE_DATASET, {"source_remote_id": actual.remote_id, "name": spec.name}), *content.steps]
        if spec.complete:
            steps.append(Step(Op.COMPLETE_DATASET, {}))
        out.renewed_datasets.add(spec.key)
        out.completed_after[spec.key] = spec.complete
        out.add(Change(address=spec.address, actions=(Action.CLONE,), reason="clone_because_dataset_completed",
                       steps=tuple(steps), before=actual.summary(),
                       after=desired_summary(spec, actual, record.pinned_prefix),
                       images=None if content.images.is_empty() else content.images))
        return
    out.completed_after[spec.key] = True
    if not spec.complete:
        out.note(spec.address, f"{spec.address}: already completed; `complete: false` does not reopen it "
                               "(completed datasets are frozen; a content change makes a new draft version)")
    if actual.name != spec.name:
        out.add(Change(address=spec.address, actions=(Action.UPDATE,),
                       reason=_update_reason(drifted, spec.name == record.current.name),
                       steps=(Step(Op.UPDATE_DATASET, {"name": spec.name}),),
                       before={"name": actual.name}, after={"name": spec.name}))


def _plan_draft(out: Findings, spec: DatasetSpec, record: DatasetRecord, actual: ActualVersion,
                drifted: bool) -> None:
    out.completed_after[spec.key] = spec.complete
    content = content_plan(spec, actual, record.pinned_prefix)
    steps: list[Step] = []
    if actual.name != spec.name:
        steps.append(Step(Op.UPDATE_DATASET, {"name": spec.name}))
    steps.extend(content.steps)
    if spec.complete:
        steps.append(Step(Op.COMPLETE_DATASET, {}))
    if not steps:
        return
    # Had bria's last apply been left alone, would there be anything to do?
    recorded = content_plan(spec, version_from_state(record.current), record.pinned_prefix)
    as_recorded = recorded.empty and spec.name == record.current.name and not spec.complete
    after = desired_summary(spec, actual, record.pinned_prefix)
    out.add(Change(address=spec.address, actions=(Action.UPDATE,), reason=_update_reason(drifted, as_recorded),
                   steps=tuple(steps), before=actual.summary(), after=after,
                   images=None if content.images.is_empty() else content.images))


def _update_reason(drifted: bool, desired_matches_state: bool) -> str:
    return "revert_drift" if drifted and desired_matches_state else "update_in_place"


def _report_drift(out: Findings, spec: DatasetSpec, record: DatasetRecord, actual: ActualVersion) -> bool:
    """Record changes made outside bria (name, caption prefix, completion, deleted or added
    images, manual captions). A wanted image that is there but not recorded is bria's own
    upload whose result was lost (the journal adopts it), not drift. The caption prefix is
    drift only when the manifest manages it (see content.prefix_steps); completion only
    when the manifest says `complete: false` (with `complete: true` it is most likely bria's
    own completion whose response was lost)."""
    addr, recorded, wanted = spec.address, record.current, desired_images(spec)
    fields: dict[str, dict[str, Any]] = {}
    if actual.name != recorded.name:
        fields["name"] = {"expected": recorded.name, "actual": actual.name}
    if spec.caption_prefix is not None and actual.caption_prefix != recorded.caption_prefix:
        fields["caption_prefix"] = {"expected": recorded.caption_prefix, "actual": actual.caption_prefix}
    if not spec.complete and actual.status != recorded.status:
        fields["status"] = {"expected": recorded.status, "actual": actual.status}
    if actual.images_from_live:
        gone = sorted(r.image_name for sha, r in recorded.images.items() if sha not in actual.images)
        if gone:
            fields["images_deleted"] = {"expected": gone, "actual": []}
        added = sorted([i.image_name for sha, i in actual.images.items()
                        if sha not in recorded.images and sha not in wanted]
                       + list(actual.foreign))
        if added:
            fields["images_added"] = {"expected": [], "actual": added}
        captions = {r.image_name: (r.caption, actual.images[sha].caption) for sha, r in recorded.images.items()
                    if r.caption_source == "manual" and sha in actual.images
                    and actual.images[sha].caption != r.caption}
        if captions:
            fields["captions"] = {"expected": {n: c[0] for n, c in sorted(captions.items())},
                                  "actual": {n: c[1] for n, c in sorted(captions.items())}}
    if actual.foreign:
        out.note(addr, f"{addr}: {len(actual.foreign)} image(s) uploaded outside bria are left alone")
    if fields:
        out.drift.append(Drift(addr, "changed", recorded.remote_id, fields))
    return bool(fields)


def _plan_removal(inputs: PlanInputs, out: Findings, key: str) -> None:
    addr = address("dataset", key)
    record = inputs.state.datasets[key]
    present = [v for v in record.versions if v.remote_id in inputs.live.datasets]
    current = record.current
    before = version_from_state(current).summary() if current else None
    if not present:
        if current is not None:
            out.drift.append(Drift(addr, "deleted", current.remote_id))
        out.add(Change(address=addr, actions=(Action.DELETE,), reason="forget_because_deleted_outside_bria",
                       steps=tuple(Step(Op.FORGET, {"remote_id": v.remote_id}) for v in record.versions),
                       before=before))
        return
    _note_training_blocks_delete(inputs, out, addr, {v.remote_id for v in present})
    out.add(Change(address=addr, actions=(Action.DELETE,), reason="delete_because_removed_from_manifest",
                   steps=tuple(Step(Op.DELETE_DATASET, {"remote_id": v.remote_id}) for v in reversed(present)),
                   before={**(before or {}), "versions": [v.remote_id for v in record.versions]}))


def _note_training_blocks_delete(inputs: PlanInputs, out: Findings, addr: str, version_ids: set[int]) -> None:
    """The API refuses (409) to delete a dataset while a model trained on it is InProgress.
    Models removed in this same plan are stopped and deleted first; any other (a superseded
    model that keeps training, a model of another manifest) blocks the deletion."""
    removed = {r.remote_id for k, r in inputs.state.models.items() if k not in inputs.manifest.models}
    training = sorted(m["id"] for m in inputs.live.models.values()
                      if m.get("dataset_id") in version_ids and m.get("status") in ("InProgress", "Stopping")
                      and m.get("id") not in removed)
    if training:
        out.note(addr, f"{addr}: the API refuses to delete it while model(s) {', '.join(map(str, training))} "
                       "train on it; wait for them to finish (or stop them) first")
