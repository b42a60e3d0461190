"""Planning for datasets (docs/design.md, "Lifecycle rules: Datasets").

A draft is edited in place. A completed dataset is frozen: any change to its images,
captions, caption prefix or visual schema makes a NEW VERSION — clone it as a draft, change the clone,
complete it — and the models trained on it are replaced (see models.py). Only the name is
updated in place on a completed dataset.

Stray images (content.py) are drift and are removed: deleted from a draft; left out of a
completed dataset's next version — see _plan_completed for when strays alone make one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.json_captions import same_json
from reconciler.model import (AUTO_PREFIX, AUTO_SCHEMA, FIBO_FAMILY, Action, Change, DatasetSpec, Drift,
                              ImageChanges, Op, Step, address)
from reconciler.planner.content import (UNKNOWN, ActualVersion, automatic_history, caption_counts, content_plan,
                                        desired_images, prefix_steps, schema_steps, upload_step, version_from_live,
                                        version_from_state)
from reconciler.planner.context import DatasetFate, DatasetOutcome, Findings, PlanInputs, ProjectOutcome
from reconciler.planner.naming import next_version, versioned_name, wanted_name
from reconciler.reasons import Reason
from reconciler.state.model import DatasetRecord
from reconciler.status import RUNNING, ModelStatus
from reconciler.stepargs import (CloneDatasetArgs, CompleteDatasetArgs, CreateDatasetArgs, DeleteDatasetArgs, ForgetArgs,
                                  UpdateDatasetArgs)

COMPLETED = "completed"


def plan_datasets(inputs: PlanInputs, out: Findings, projects: ProjectOutcome,
                  trained_next: frozenset[str]) -> DatasetOutcome:
    """`trained_next`: datasets whose current version a training of this plan would start on
    if it stayed as it is (planner.training_targets) — their strays must go first."""
    fates = {spec.key: _plan_dataset(inputs, out, spec, projects, trained_next)
             for spec in inputs.manifest.datasets.values()}
    for key in sorted(set(inputs.state.datasets) - set(inputs.manifest.datasets)):
        _plan_removal(inputs, out, key)
    return DatasetOutcome(fates)


def desired_summary(spec: DatasetSpec, actual: ActualVersion | None, pinned: str | None,
                    pinned_schema: str | None = None, name: str | None = None) -> dict[str, Any]:
    """The manifest's side of a dataset, with the same keys as ActualVersion.summary()
    (`name`: the version's name when not the plain one, planner/naming.py)."""
    if spec.family == FIBO_FAMILY:
        schema = (pinned_schema or "auto (generated)") if spec.visual_schema == AUTO_SCHEMA else spec.visual_schema
        images = desired_images(spec)
        manual = sum(1 for i in images.values() if i.caption is not None)
        summary = {"name": name or spec.name, "status": COMPLETED if spec.complete else "draft",
                   "visual_schema": schema, "images": len(images),
                   "captions": caption_counts(manual, len(images) - manual)}
        return summary if actual else {"project": spec.project, **summary}
    prefix = spec.caption_prefix
    if prefix is None:
        prefix = actual.caption_prefix if actual else "(API default)"    # left as the API has it
    elif prefix == AUTO_PREFIX:
        prefix = pinned or "auto (generated)"
    images = desired_images(spec)
    manual = sum(1 for i in images.values() if i.caption is not None)
    summary = {"name": name or spec.name, "status": COMPLETED if spec.complete else "draft", "caption_prefix": prefix,
               "images": len(images), "captions": caption_counts(manual, len(images) - manual)}
    return summary if actual else {"project": spec.project, **summary}


def _plan_dataset(inputs: PlanInputs, out: Findings, spec: DatasetSpec, projects: ProjectOutcome,
                  trained_next: frozenset[str]) -> DatasetFate:
    record = inputs.state.datasets.get(spec.key)
    current = record.current if record else None
    if record is None or current is None:
        return _create(out, spec, Reason.CREATE, record, name=_new_version_name(inputs, spec, record))
    recorded = version_from_state(current)
    before = recorded.summary()
    if spec.project in projects.replaced:
        # The project's deletion takes every version with it; the ip fields that shaped an
        # automatic prefix changed, so it is generated again.
        return _create(out, spec, Reason.RECREATE_BECAUSE_PROJECT_REPLACED, record, before, regenerate_prefix=True,
                       name=_new_version_name(inputs, spec, record))
    if record.project != spec.project:
        return _create(out, spec, Reason.RECREATE_BECAUSE_PROJECT_CHANGED, record, before,
                       name=_new_version_name(inputs, spec, record))
    recorded_family = _positive_family(current)
    if recorded_family is not None and recorded_family != spec.family:
        out.note(spec.address, f"{spec.address}: the dataset changes family ({recorded_family} → {spec.family}); "
                 f"the API cannot convert a dataset, so a new {spec.family} dataset is created (version "
                 f"{current.remote_id} is kept). Where a project is locked to the family of its first dataset "
                 "(the mixed dialect) the API refuses it: then put the dataset in a new project")
        return _create(out, spec, Reason.RECREATE_BECAUSE_FAMILY_CHANGED, record, before)
    live = inputs.live_dataset(spec.key)
    if live is None:
        out.drift.append(Drift(spec.address, "deleted", current.remote_id))
        return _create(out, spec, Reason.RECREATE_BECAUSE_DELETED_OUTSIDE_BRIA, record, before,
                       name=_new_version_name(inputs, spec, record))
    actual = version_from_live(live, current, [*(i.sha256 for i in spec.images), *_journaled_uploads(inputs, spec)],
                               recorded)
    actual = replace(actual, automatic_history=automatic_history(record))
    drifted = _report_drift(out, spec, record, actual)
    if actual.status == COMPLETED:
        return _plan_completed(inputs, out, spec, record, actual, drifted, spec.key in trained_next)
    return _plan_draft(out, spec, record, actual, drifted, _wanted_name(inputs, spec, record))


def _new_version_name(inputs: PlanInputs, spec: DatasetSpec, record: DatasetRecord | None) -> str:
    """The plain name for a dataset's first version; a versioned one for each later version."""
    if record is None or not record.versions:
        return spec.name
    pattern = inputs.manifest.name_pattern
    current = record.current.name if record.current else None
    return versioned_name(pattern, spec.name, next_version(pattern, current, len(record.versions)))


def _wanted_name(inputs: PlanInputs, spec: DatasetSpec, record: DatasetRecord) -> str:
    """The current version's name as the manifest wants it (with the version bria gave it)."""
    return wanted_name(inputs.manifest.name_pattern, spec.name, record.current.name if record.current else None)


def _create(out: Findings, spec: DatasetSpec, reason: Reason, record: DatasetRecord | None,
            before: dict[str, Any] | None = None, *, regenerate_prefix: bool = False,
            name: str | None = None) -> DatasetFate:
    """The full create sequence: create, prefix, uploads (with manual captions), complete.

    A recreated dataset keeps its record: the new version is appended to the chain (the old,
    gone ones stay as history) and a pinned automatic prefix is reused."""
    pinned = record.pinned_prefix if record else None
    pinned_schema = record.pinned_schema if record else None
    name = name or spec.name
    family = FIBO_FAMILY if spec.family == FIBO_FAMILY else None
    steps = [Step(Op.CREATE_DATASET, CreateDatasetArgs(name, spec.project, family))]
    steps.extend(prefix_steps(spec, UNKNOWN, pinned, regenerate=regenerate_prefix))
    # Before the uploads, so that each image is captioned once, from the schema.
    steps.extend(schema_steps(spec, UNKNOWN, pinned_schema))
    uploads = list(desired_images(spec).values())
    steps.extend(upload_step(i, spec.increase_resolution, automatic_history(record)) for i in uploads)
    if spec.complete:
        steps.append(Step(Op.COMPLETE_DATASET, CompleteDatasetArgs()))
    out.add(Change(address=spec.address, actions=(Action.CREATE,), reason=reason, steps=tuple(steps),
                   before=before, after=desired_summary(spec, None, None if regenerate_prefix else pinned,
                                                        pinned_schema, name),
                   images=ImageChanges(upload=tuple(i.rel_path for i in uploads))))
    return DatasetFate(renewed=True, completed_after=spec.complete)


def _positive_family(version: Any) -> str | None:
    """The family a recorded version shows beyond doubt: a visual schema is FIBO; a caption
    prefix without one is legacy (the API gives every legacy dataset a prefix); else unknown
    (a FIBO draft whose schema is not set yet looks like that) — never guessed."""
    if version.visual_schema is not None:
        return FIBO_FAMILY
    return "legacy" if version.caption_prefix is not None else None


def _journaled_uploads(inputs: PlanInputs, spec: DatasetSpec) -> list[str]:
    """Content of uploads to this dataset whose response was lost (journal leftovers): bria's
    own images, which apply adopts before it runs the plan — never strays."""
    return [str(e.detail["sha256"]) for e in inputs.state.journal
            if e.op == Op.UPLOAD_IMAGE.value and e.address == spec.address and e.detail.get("sha256")]


def _plan_completed(inputs: PlanInputs, out: Findings, spec: DatasetSpec, record: DatasetRecord,
                    actual: ActualVersion, drifted: bool, trained_next: bool) -> DatasetFate:
    """A completed version is frozen: content changes make a new version (a clone), and the
    clone leaves out the version's stray images.

    Strays ALONE make a new version unless models bria manages have already trained (or are
    training) on this version. The reason: reproducibility means no training bria starts
    uses an image that is not in the manifest. A version nobody trained on yet costs only a
    clone to put right, so it is put right before anything trains on it. A version already
    trained on is history — those models were trained with the strays; a new version now
    would only retrain them (hours of training, every time someone adds an image in the
    console) without changing what they learned from. So the plan says so in a note and the
    strays are dropped with the next content change — or as soon as this plan would start
    another training on the version (`trained_next`, computed before any dataset is
    planned: planner.training_targets), because that training must not see them either."""
    pinned = record.pinned_prefix
    content = content_plan(spec, actual, pinned, record.pinned_schema)
    reason = None
    if not content_plan(spec, replace(actual, strays=()), pinned, record.pinned_schema).empty:
        reason = Reason.CLONE_BECAUSE_DATASET_COMPLETED
    if actual.strays:
        trained = _trained_on(inputs, actual.remote_id)
        if reason is None and (not trained or trained_next):
            reason = Reason.CLONE_BECAUSE_STRAY_IMAGES
        _note_strays(out, spec, actual, trained, dropped=reason is not None)
    wanted = _wanted_name(inputs, spec, record)
    if reason is not None:
        name = _new_version_name(inputs, spec, record)
        steps = [Step(Op.CLONE_DATASET, CloneDatasetArgs(actual.remote_id, name)), *content.steps]
        if spec.complete:
            steps.append(Step(Op.COMPLETE_DATASET, CompleteDatasetArgs()))
        out.add(Change(address=spec.address, actions=(Action.CLONE,), reason=reason,
                       steps=tuple(steps), before=actual.summary(),
                       after=desired_summary(spec, actual, pinned, record.pinned_schema, name),
                       images=None if content.images.is_empty() else content.images))
        return DatasetFate(renewed=True, completed_after=spec.complete)
    if not spec.complete:
        out.note(spec.address, f"{spec.address}: already completed; `complete: false` does not reopen it "
                               "(completed datasets are frozen; a content change makes a new draft version)")
    if actual.name != wanted:
        out.add(Change(address=spec.address, actions=(Action.UPDATE,),
                       reason=_update_reason(drifted, wanted == record.current.name),
                       steps=(Step(Op.UPDATE_DATASET, UpdateDatasetArgs(wanted)),),
                       before={"name": actual.name}, after={"name": wanted}))
    return DatasetFate(renewed=False, completed_after=True)


def _plan_draft(out: Findings, spec: DatasetSpec, record: DatasetRecord, actual: ActualVersion,
                drifted: bool, wanted: str) -> DatasetFate:
    fate = DatasetFate(renewed=False, completed_after=spec.complete)
    content = content_plan(spec, actual, record.pinned_prefix, record.pinned_schema)
    steps: list[Step] = []
    if actual.name != wanted:
        steps.append(Step(Op.UPDATE_DATASET, UpdateDatasetArgs(wanted)))
    steps.extend(content.steps)
    if spec.complete:
        steps.append(Step(Op.COMPLETE_DATASET, CompleteDatasetArgs()))
    if not steps:
        return fate
    # Had bria's last apply been left alone, would there be anything to do?
    recorded = content_plan(spec, version_from_state(record.current), record.pinned_prefix, record.pinned_schema)
    as_recorded = recorded.empty and wanted == record.current.name and not spec.complete
    after = desired_summary(spec, actual, record.pinned_prefix, record.pinned_schema, wanted)
    out.add(Change(address=spec.address, actions=(Action.UPDATE,), reason=_update_reason(drifted, as_recorded),
                   steps=tuple(steps), before=actual.summary(), after=after,
                   images=None if content.images.is_empty() else content.images))
    return fate


def _trained_on(inputs: PlanInputs, version_id: int) -> list[str]:
    """bria's models (current or superseded) whose training on this version has started."""
    trained = []
    for key, model in sorted(inputs.state.models.items()):
        status = (inputs.live.models.get(model.remote_id) or {}).get("status", model.status)
        if model.dataset_remote_id == version_id and status != ModelStatus.CREATED:
            trained.append(f"{address('model', key)} (model {model.remote_id}, {status})")
        trained.extend(f"{address('model', key)}'s superseded model {s.remote_id} ({s.status})"
                       for s in model.superseded
                       if s.dataset_remote_id == version_id and s.status != ModelStatus.CREATED)
    return trained


def _note_strays(out: Findings, spec: DatasetSpec, actual: ActualVersion, trained: list[str], *,
                 dropped: bool) -> None:
    if not trained:
        return   # nothing trained with them: the drift section and the clone's image list say it all
    names = ", ".join(s.label for s in actual.strays)
    text = (f"{spec.address}: completed version {actual.remote_id} holds {len(actual.strays)} image(s) not in "
            f"the manifest ({names}), and {', '.join(trained)} trained with them. ")
    if dropped:
        text += "The new version leaves them out; its models are trained without them"
    else:
        text += ("bria does not make a new version and retrain only to drop them: the next content change of "
                 "this dataset, or the next training bria starts on it, makes a version without them")
    out.note(spec.address, text)


def _update_reason(drifted: bool, desired_matches_state: bool) -> Reason:
    return Reason.REVERT_DRIFT if drifted and desired_matches_state else Reason.UPDATE_IN_PLACE


def _report_drift(out: Findings, spec: DatasetSpec, record: DatasetRecord, actual: ActualVersion) -> bool:
    """Record changes made outside bria (name, caption prefix, completion, deleted images,
    stray images, manual captions). A wanted image that is there but not recorded is bria's
    own upload whose result was lost (the journal adopts it), not drift. A stray is drift
    whether state recorded it (as `unknown-<id>`, e.g. after `bria import`) or not: it is
    not the manifest's. The caption prefix is drift only when the manifest manages it (see
    content.prefix_steps); completion only when the manifest says `complete: false` (with
    `complete: true` it is most likely bria's own completion whose response was lost)."""
    addr, recorded = spec.address, record.current
    fields: dict[str, dict[str, Any]] = {}
    if actual.name != recorded.name:
        fields["name"] = {"expected": recorded.name, "actual": actual.name}
    if spec.caption_prefix is not None and actual.caption_prefix != recorded.caption_prefix:
        fields["caption_prefix"] = {"expected": recorded.caption_prefix, "actual": actual.caption_prefix}
    if spec.visual_schema is not None and not same_json(actual.visual_schema, recorded.visual_schema):
        fields["visual_schema"] = {"expected": recorded.visual_schema, "actual": actual.visual_schema}
    if not spec.complete and actual.status != recorded.status:
        fields["status"] = {"expected": recorded.status, "actual": actual.status}
    if actual.images_from_live:
        stray_ids = {s.remote_id for s in actual.strays}
        gone = sorted(r.image_name for sha, r in recorded.images.items()
                      if sha not in actual.images and r.remote_id not in stray_ids)
        if gone:
            fields["images_deleted"] = {"expected": gone, "actual": []}
    if actual.strays:
        fields["images_added"] = {"expected": [], "actual": sorted(s.label for s in actual.strays)}
    if actual.images_from_live:
        captions = {r.image_name: (r.caption, actual.images[sha].caption) for sha, r in recorded.images.items()
                    if r.caption_source == "manual" and sha in actual.images
                    and not same_json(actual.images[sha].caption, r.caption)}
        if captions:
            fields["captions"] = {"expected": {n: c[0] for n, c in sorted(captions.items())},
                                  "actual": {n: c[1] for n, c in sorted(captions.items())}}
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
        out.add(Change(address=addr, actions=(Action.DELETE,), reason=Reason.FORGET_BECAUSE_DELETED_OUTSIDE_BRIA,
                       steps=tuple(Step(Op.FORGET, ForgetArgs(v.remote_id)) for v in record.versions),
                       before=before))
        return
    _note_training_blocks_delete(inputs, out, addr, {v.remote_id for v in present})
    out.add(Change(address=addr, actions=(Action.DELETE,), reason=inputs.removal_reason,
                   steps=tuple(Step(Op.DELETE_DATASET, DeleteDatasetArgs(v.remote_id)) for v in reversed(present)),
                   before={**(before or {}), "versions": [v.remote_id for v in record.versions]}))


def _note_training_blocks_delete(inputs: PlanInputs, out: Findings, addr: str, version_ids: set[int]) -> None:
    """The API refuses (409) to delete a dataset while a model trained on it is InProgress.
    Models removed in this same plan are stopped and deleted first; any other (a superseded
    model that keeps training, a model of another manifest) blocks the deletion."""
    removed = {r.remote_id for k, r in inputs.state.models.items() if k not in inputs.manifest.models}
    training = sorted(m["id"] for m in inputs.live.models.values()
                      if m.get("dataset_id") in version_ids and m.get("status") in RUNNING
                      and m.get("id") not in removed)
    if training:
        out.note(addr, f"{addr}: the API refuses to delete it while model(s) {', '.join(map(str, training))} "
                       "train on it; wait for them to finish (or stop them) first")
