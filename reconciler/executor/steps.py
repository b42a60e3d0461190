"""One handler per plan step (`model.Op`), as specified in docs/architecture.md "Plan steps".

Handlers resolve remote ids from the *current* state at run time (steps name resources by
address and content hash), call the API through `ctx.calls`, and record every successful
mutation in state through `ctx.holder` before returning. Non-idempotent calls go through
`journal.journaled`. A handler raises on failure; the change then stops there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable

from reconciler.api import ImageChanged, errors
from reconciler.api.protocol import ApiObject
from reconciler.executor import records
from reconciler.executor.captioning import (generate_prefix, generate_visual_schema, regenerate_all_captions,
                                            set_caption_prefix, set_visual_schema)
from reconciler.executor.block_steps import BLOCK_HANDLERS
from reconciler.executor.context import RunContext
from reconciler.executor.journal import finish_model_delete, journaled, model_delete_entry, new_entry
from reconciler.executor.lookup import Caller
from reconciler.executor.records import StepFailed
from reconciler.executor.training import settle_transition, wait_until_stopped
from reconciler.model import Change, Op, address, split_address
from reconciler.reasons import Reason
from reconciler.state.model import State
from reconciler.status import TRAINED, ModelStatus
from reconciler.stepargs import (CloneDatasetArgs, CompleteDatasetArgs, CreateDatasetArgs, CreateModelArgs,
                                 CreateProjectArgs, DeleteDatasetArgs, DeleteImageArgs, DeleteModelArgs,
                                 DeleteProjectArgs, ForgetArgs, RegenerateCaptionArgs, SetCaptionArgs, StartTrainingArgs,
                                 StopTrainingArgs, SupersedeModelArgs, UpdateDatasetArgs, UpdateModelArgs,
                                 UpdateProjectArgs, UploadImageArgs)



@dataclass
class ChangeRun:
    """One change being executed: its address and what earlier steps left for later ones."""

    change: Change
    supersede_reason: Reason | None = None  # set by SUPERSEDE_MODEL, consumed by CREATE_MODEL
    forgotten_model: int | None = None    # set by FORGET before CREATE_MODEL: history kept, not superseded
    trained: bool = False                 # START_TRAINING succeeded
    # Set when the changes that depend on this one may start before it has finished: its
    # last step has done what they need from the API and only records what it did (see
    # complete_dataset). Unset, they wait for the change's outcome.
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def key(self) -> str:
        return split_address(self.change.address)[1]


# Each handler takes its op's argument class (model.ARGS_BY_OP).
Handler = Callable[[RunContext, ChangeRun, Any], Awaitable[None]]


def _required_id(run: ChangeRun, remote_id: int | None) -> int:
    if remote_id is None:
        raise StepFailed(f"{run.address}: the step names no remote id (re-plan)")
    return remote_id


async def _ignore_not_found(call: Awaitable[Any]) -> None:
    """Deletes are idempotent for us: an object already gone is what we wanted."""
    try:
        await call
    except errors.NotFound:
        pass


# --- projects ----------------------------------------------------------------------------------


async def create_project(ctx: RunContext, run: ChangeRun, args: CreateProjectArgs) -> None:
    fields = dict(args.fields)
    entry = new_entry(ctx, Op.CREATE_PROJECT, run.address, fields.get("project_name", ""), None, fields=fields)
    await journaled(ctx, entry, lambda call: call(ctx.api.create_project, **fields))


async def update_project(ctx: RunContext, run: ChangeRun, args: UpdateProjectArgs) -> None:
    fields = dict(args.fields)
    project = records.require_project(ctx.holder.state, run.key)
    await ctx.calls(ctx.api.update_project, project.remote_id, **fields)
    await ctx.holder.update(lambda s: records.update_project_applied(s, run.key, fields))


async def delete_project(ctx: RunContext, run: ChangeRun, args: DeleteProjectArgs) -> None:
    remote_id = _required_id(run, args.remote_id)
    await _ignore_not_found(ctx.calls(ctx.api.delete_project, remote_id))

    def forget_project_and_children(state: State) -> State:
        # The API deletes the project's datasets and models with it.
        datasets = [k for k, r in state.datasets.items() if r.project == run.key]
        for key, model in state.models.items():
            if model.dataset in datasets:
                state = state.with_resource(address("model", key), None)
        for key in datasets:
            state = state.with_resource(address("dataset", key), None)
        return state.with_resource(run.address, None)

    await ctx.holder.update(forget_project_and_children)


# --- datasets ----------------------------------------------------------------------------------


def _project_key_of_dataset(ctx: RunContext, key: str, project: str | None) -> str:
    if project:
        return project
    if ctx.manifest is not None and key in ctx.manifest.datasets:
        return ctx.manifest.datasets[key].project
    record = ctx.holder.state.datasets.get(key)
    if record is None:
        raise StepFailed(f"{address('dataset', key)}: its project is unknown (not in the manifest or state)")
    return record.project


async def create_dataset(ctx: RunContext, run: ChangeRun, args: CreateDatasetArgs) -> None:
    project_key = _project_key_of_dataset(ctx, run.key, args.project)
    project_id = records.require_project(ctx.holder.state, project_key).remote_id
    entry = new_entry(ctx, Op.CREATE_DATASET, run.address, args.name, project_id, project=project_key)
    await journaled(ctx, entry, lambda call: call(ctx.api.create_dataset, project_id, args.name, family=args.family))


async def clone_dataset(ctx: RunContext, run: ChangeRun, args: CloneDatasetArgs) -> None:
    source_id = args.source_remote_id
    project_key = _project_key_of_dataset(ctx, run.key, None)
    project_id = records.require_project(ctx.holder.state, project_key).remote_id
    source = records.version_by_id(ctx.holder.state, run.key, source_id)
    name = args.name or f"Copy of {source.name if source else ''}"
    entry = new_entry(ctx, Op.CLONE_DATASET, run.address, name, project_id, project=project_key,
                      source_remote_id=source_id)
    await journaled(ctx, entry, lambda call: call(ctx.api.clone_dataset, source_id, name=name))


async def update_dataset(ctx: RunContext, run: ChangeRun, args: UpdateDatasetArgs) -> None:
    version = records.require_dataset_version(ctx.holder.state, run.key)
    await ctx.calls(ctx.api.update_dataset, version.remote_id, name=args.name)
    await ctx.holder.update(lambda s: records.change_version(s, run.key, version.remote_id, name=args.name))


async def delete_image(ctx: RunContext, run: ChangeRun, args: DeleteImageArgs) -> None:
    """Delete one image of the current version: bria's own by `sha256`, or a stray by
    `remote_id` (an image state may not hold: uploaded in the console; on a clone, its copy —
    see records.stray_remote_id)."""
    version = records.require_dataset_version(ctx.holder.state, run.key)
    sha = args.sha256
    if sha:
        image = version.images.get(sha)
        target = image.remote_id if image is not None else None
    else:
        target = records.stray_remote_id(run.address, version, args)
    if target is not None:
        await _ignore_not_found(ctx.calls(ctx.api.delete_image, version.remote_id, target))
    await ctx.holder.update(lambda s: records.without_image(s, run.key, version.remote_id, sha, target))


async def upload_image(ctx: RunContext, run: ChangeRun, args: UploadImageArgs) -> None:
    """The client hashes the bytes it reads for the body and stops the request before it
    completes if they are not the planned content (`ImageChanged`): what is uploaded is what
    was planned, with no separate hashing pass and no window between a check and the read."""
    if ctx.manifest is None:
        raise StepFailed(f"{run.address}: uploads need the manifest's folder")
    path = ctx.manifest.root / args.rel_path
    version = records.require_dataset_version(ctx.holder.state, run.key)
    entry = new_entry(ctx, Op.UPLOAD_IMAGE, run.address, args.image_name, version.remote_id, sha256=args.sha256)
    try:
        await journaled(ctx, entry, lambda call: call(
            ctx.api.upload_image, version.remote_id, path, image_name=args.image_name,
            increase_resolution=args.increase_resolution, sha256=args.sha256))
    except ImageChanged as exc:
        raise StepFailed(f"{args.rel_path}: file changed since plan (re-plan)") from exc
    except OSError as exc:          # the file could not be stat'ed: nothing was sent
        raise StepFailed(f"{args.rel_path}: cannot read ({exc.strerror or exc})") from exc
    if args.caption is not None:
        # The planner puts a new image's manual caption here (not in a SET_CAPTION step) so that
        # no two steps of one concurrent batch touch the same image.
        await _change_caption(ctx, run, args.sha256, ctx.api.set_image_caption, args.caption)
    ctx.reporter.upload_done(run.address)


async def _change_caption(ctx: RunContext, run: ChangeRun, sha: str, method: Callable[..., Awaitable[ApiObject]],
                          *extra: Any) -> None:
    version = records.require_dataset_version(ctx.holder.state, run.key)
    image = version.images.get(sha)
    if image is None:
        raise StepFailed(f"{run.address}: image {sha[:12]} is not in state")
    remote = await ctx.calls(method, version.remote_id, image.remote_id, *extra)
    updated = replace(image, caption=remote.get("caption"), caption_source=remote.get("caption_source") or "unknown")
    await ctx.holder.update(lambda s: records.with_image(s, run.key, version.remote_id, sha, updated))


async def set_caption(ctx: RunContext, run: ChangeRun, args: SetCaptionArgs) -> None:
    await _change_caption(ctx, run, args.sha256, ctx.api.set_image_caption, args.caption)


async def regenerate_caption(ctx: RunContext, run: ChangeRun, args: RegenerateCaptionArgs) -> None:
    await _change_caption(ctx, run, args.sha256, ctx.api.regenerate_image_caption)


async def complete_dataset(ctx: RunContext, run: ChangeRun, args: CompleteDatasetArgs) -> None:
    version = records.require_dataset_version(ctx.holder.state, run.key)

    async def complete(call: Caller) -> ApiObject:
        try:
            answer = await call(ctx.api.update_dataset, version.remote_id, status="completed")
        except errors.Conflict:
            answer = None   # already completed by an earlier run? the re-read below tells
        if (isinstance(answer, dict) and answer.get("status") == "completed"
                and run.change.steps[-1].op is Op.COMPLETE_DATASET):
            # The API says the version is frozen: a model may be created from it now, while
            # the re-read below fetches the captions to record (one round trip saved). Until
            # that record is written this entry stays in the journal, so a crash in between
            # is resolved by the next run like any interrupted completion (journal.adoption).
            run.released.set()
        # A completed version is frozen and later plans trust its record instead of re-reading
        # it, so it is recorded from the API's own view of it (journal.adoption).
        frozen = await call(ctx.api.get_dataset, version.remote_id)
        if frozen.get("status") != "completed":
            raise StepFailed(f"{run.address}: dataset {version.remote_id} is still {frozen.get('status')}")
        return frozen

    entry = new_entry(ctx, Op.COMPLETE_DATASET, run.address, version.name, version.remote_id)
    await journaled(ctx, entry, complete)


async def delete_dataset(ctx: RunContext, run: ChangeRun, args: DeleteDatasetArgs) -> None:
    remote_id = _required_id(run, args.remote_id)
    await _ignore_not_found(ctx.calls(ctx.api.delete_dataset, remote_id))
    await ctx.holder.update(lambda s: records.without_dataset_version(s, run.key, remote_id))


# --- models ------------------------------------------------------------------------------------


async def supersede_model(ctx: RunContext, run: ChangeRun, args: SupersedeModelArgs) -> None:
    # State only, and deferred: the current model moves into `superseded` in the same state
    # write that records its replacement, so state never holds a model address with no model.
    run.supersede_reason = args.reason


def _dataset_key_of_model(ctx: RunContext, key: str, dataset: str | None) -> str:
    if dataset:
        return dataset
    if ctx.manifest is not None and key in ctx.manifest.models:
        return ctx.manifest.models[key].dataset
    return records.require_model(ctx.holder.state, key).dataset


async def create_model(ctx: RunContext, run: ChangeRun, args: CreateModelArgs) -> None:
    dataset_key = _dataset_key_of_model(ctx, run.key, args.dataset)
    dataset_id = records.require_dataset_version(ctx.holder.state, dataset_key).remote_id
    spec = ctx.manifest.models.get(run.key) if ctx.manifest is not None else None
    parameters = dict(spec.training_parameters) if spec is not None else {}
    # The reason recorded for a superseded predecessor comes from SUPERSEDE_MODEL's arguments,
    # else the change's (records.record_model uses it only when there is a predecessor).
    reason = (run.supersede_reason or run.change.reason).value
    entry = new_entry(ctx, Op.CREATE_MODEL, run.address, args.name, dataset_id, dataset=dataset_key,
                      training_parameters=parameters, supersede_reason=reason, forgotten=run.forgotten_model,
                      delete_superseded=_replaced_untrained(ctx, run))
    await journaled(ctx, entry, lambda call: call(
        ctx.api.create_model, name=args.name, dataset_id=dataset_id, training_version=args.training_version,
        training_mode=args.training_mode, description=args.description))


async def update_model(ctx: RunContext, run: ChangeRun, args: UpdateModelArgs) -> None:
    fields = {k: v for k, v in args.fields.items() if k in UpdateModelArgs.UPDATABLE}
    model = records.require_model(ctx.holder.state, run.key)
    await ctx.calls(ctx.api.update_model, model.remote_id, **fields)
    await ctx.holder.update(lambda s: records.change_model(s, run.key, **fields))


async def start_training(ctx: RunContext, run: ChangeRun, args: StartTrainingArgs) -> None:
    parameters = dict(args.parameters)
    model = records.require_model(ctx.holder.state, run.key)
    entry = new_entry(ctx, Op.START_TRAINING, run.address, model.name, model.remote_id, parameters=parameters)
    await journaled(ctx, entry, lambda call: settle_transition(
        call, ctx.api, model.remote_id, ctx.api.start_training, TRAINED, model.remote_id, parameters or None))
    run.trained = True


async def stop_training(ctx: RunContext, run: ChangeRun, args: StopTrainingArgs) -> None:
    model = records.require_model(ctx.holder.state, run.key)
    remote_id = args.remote_id or model.remote_id
    remote = await settle_transition(ctx.calls, ctx.api, remote_id, ctx.api.stop_training,
                                     (ModelStatus.STOPPING, ModelStatus.STOPPED), remote_id)
    if remote_id == model.remote_id:
        await ctx.holder.update(lambda s: records.change_model(s, run.key, status=remote.get("status") or ModelStatus.STOPPING.value))


async def delete_model(ctx: RunContext, run: ChangeRun, args: DeleteModelArgs) -> None:
    remote_id = _required_id(run, args.remote_id)
    current = ctx.holder.state.models.get(run.key)
    if current is not None and current.remote_id != remote_id:
        if any(isinstance(s.args, StopTrainingArgs) and s.args.remote_id == remote_id for s in run.change.steps):
            await wait_until_stopped(ctx, remote_id)   # `bria prune` of a superseded model still training
        # A replaced model that never trained (or a pruned superseded one): journaled (the successor's record queued the
        # intent), so a kill after the delete cannot leave a record of a model that is gone.
        entry = next((e for e in ctx.holder.state.journal if e.op == Op.DELETE_MODEL.value
                      and e.address == run.address and e.parent_id == remote_id), None)
        if entry is None:
            entry = model_delete_entry(ctx, run.address, remote_id)
            await ctx.holder.update(lambda s: s.with_journal_entry(entry))
        await finish_model_delete(ctx, entry, ctx.calls)
        return
    try:
        await _ignore_not_found(ctx.calls(ctx.api.delete_model, remote_id))
    except errors.Conflict:
        # Just stopped (STOP_TRAINING earlier in this change): deletable once Stopped.
        await wait_until_stopped(ctx, remote_id)
        await _ignore_not_found(ctx.calls(ctx.api.delete_model, remote_id))
    await ctx.holder.update(lambda s: records.without_model(s, run.key, remote_id))


def _replaced_untrained(ctx: RunContext, run: ChangeRun) -> int | None:
    """The never-trained model this change replaces and deletes once its successor exists."""
    current = ctx.holder.state.models.get(run.key)
    for step in run.change.steps:
        if (step.op is Op.DELETE_MODEL and current is not None and isinstance(step.args, DeleteModelArgs)
                and step.args.remote_id == current.remote_id):
            return step.args.remote_id
    return None


async def forget(ctx: RunContext, run: ChangeRun, args: ForgetArgs) -> None:
    remote_id = args.remote_id
    model = ctx.holder.state.models.get(run.key) if run.address.startswith("model.") else None
    recreated = any(s.op is Op.CREATE_MODEL for s in run.change.steps)
    if model is not None and recreated and remote_id in (None, model.remote_id):
        # Deferred like SUPERSEDE_MODEL: the new model's record replaces the gone one and
        # keeps its `superseded` history (a record cannot exist without a current model).
        run.forgotten_model = model.remote_id
        return

    def drop(state: State) -> State:
        kind = split_address(run.address)[0]
        if remote_id is None or kind == "project":
            return state.with_resource(run.address, None)
        if kind == "dataset":
            return records.without_dataset_version(state, run.key, int(remote_id))
        return records.without_model(state, run.key, int(remote_id))

    await ctx.holder.update(drop)


HANDLERS: dict[Op, Handler] = {
    Op.CREATE_PROJECT: create_project, Op.UPDATE_PROJECT: update_project, Op.DELETE_PROJECT: delete_project,
    Op.CREATE_DATASET: create_dataset, Op.CLONE_DATASET: clone_dataset, Op.UPDATE_DATASET: update_dataset,
    Op.GENERATE_PREFIX: generate_prefix, Op.SET_CAPTION_PREFIX: set_caption_prefix,
    Op.GENERATE_VISUAL_SCHEMA: generate_visual_schema, Op.SET_VISUAL_SCHEMA: set_visual_schema,
    Op.REGENERATE_ALL_CAPTIONS: regenerate_all_captions, Op.DELETE_IMAGE: delete_image,
    Op.UPLOAD_IMAGE: upload_image, Op.SET_CAPTION: set_caption, Op.REGENERATE_CAPTION: regenerate_caption,
    Op.COMPLETE_DATASET: complete_dataset, Op.DELETE_DATASET: delete_dataset,
    Op.CREATE_MODEL: create_model, Op.UPDATE_MODEL: update_model, Op.START_TRAINING: start_training,
    Op.STOP_TRAINING: stop_training, Op.DELETE_MODEL: delete_model, Op.SUPERSEDE_MODEL: supersede_model,
    Op.FORGET: forget,
}
HANDLERS.update(BLOCK_HANDLERS)   # moved / import / removed blocks (state only)

# Steps on distinct images of one dataset: consecutive runs of these execute concurrently.
IMAGE_OPS = frozenset({Op.UPLOAD_IMAGE, Op.DELETE_IMAGE, Op.SET_CAPTION, Op.REGENERATE_CAPTION})
