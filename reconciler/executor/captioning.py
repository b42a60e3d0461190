"""Plan steps that decide how a dataset's images are captioned: the caption prefix (legacy
datasets) or the visual schema (FIBO datasets) — generated once and pinned in state, or set
literally — and "regenerate all captions", which waits for the job and records the captions
as the API made them. Handlers follow the contract of `steps.py`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.executor import records
from reconciler.executor.context import RunContext
from reconciler.executor.records import StepFailed
from reconciler.model import DatasetSpec
from reconciler.state.model import DatasetRecord, State
from reconciler.stepargs import (GeneratePrefixArgs, GenerateVisualSchemaArgs, RegenerateAllCaptionsArgs,
                                 SetCaptionPrefixArgs, SetVisualSchemaArgs)

if TYPE_CHECKING:
    from reconciler.executor.steps import ChangeRun


def _sample_paths(ctx: RunContext, run: ChangeRun, shas: tuple[str, ...], what: str) -> tuple[DatasetSpec, list[Path]]:
    """The dataset's spec and the files of the images a generate step names."""
    if ctx.manifest is None or run.key not in ctx.manifest.datasets:
        raise StepFailed(f"{run.address}: {what} needs the dataset in the manifest")
    spec = ctx.manifest.datasets[run.key]
    by_sha = {img.sha256: img.path for img in spec.images}
    missing = [sha[:12] for sha in shas if sha not in by_sha]
    if missing:
        raise StepFailed(f"{run.address}: images {missing} are no longer in the manifest (re-plan)")
    return spec, [by_sha[sha] for sha in shas]


async def _pin(ctx: RunContext, run: ChangeRun, project_key: str, **pinned: str) -> None:
    def pin(state: State) -> State:
        record = state.datasets.get(run.key) or DatasetRecord(project=project_key)
        return state.with_resource(run.address, replace(record, **pinned))

    await ctx.holder.update(pin)


async def generate_prefix(ctx: RunContext, run: ChangeRun, args: GeneratePrefixArgs) -> None:
    spec, paths = _sample_paths(ctx, run, args.shas, "generate_prefix")
    project = ctx.manifest.projects[spec.project]
    prefix = await ctx.calls(ctx.api.generate_prefix, paths,
                             ip_type=project.ip_type, ip_medium=project.ip_medium, ip_name=project.ip_name)
    await _pin(ctx, run, spec.project, pinned_prefix=prefix)


async def generate_visual_schema(ctx: RunContext, run: ChangeRun, args: GenerateVisualSchemaArgs) -> None:
    """Generate once and pin: a later run re-applies the pinned schema, never a new one."""
    spec, paths = _sample_paths(ctx, run, args.shas, "generate_visual_schema")
    schema = await ctx.calls(ctx.api.generate_visual_schema, paths)
    await _pin(ctx, run, spec.project, pinned_schema=schema)


async def set_visual_schema(ctx: RunContext, run: ChangeRun, args: SetVisualSchemaArgs) -> None:
    """PUT the schema on the (draft) current version and record it as the API returns it."""
    record = ctx.holder.state.datasets.get(run.key)
    schema = args.schema or (record.pinned_schema if record else None)
    if not schema:
        raise StepFailed(f"{run.address}: no visual schema to set (none given, none pinned)")
    version = records.require_dataset_version(ctx.holder.state, run.key)
    remote = await ctx.calls(ctx.api.update_dataset, version.remote_id, visual_schema=schema)
    stored = (remote or {}).get("visual_schema") or schema
    await ctx.holder.update(lambda s: records.change_version(s, run.key, version.remote_id, visual_schema=stored))


async def set_caption_prefix(ctx: RunContext, run: ChangeRun, args: SetCaptionPrefixArgs) -> None:
    record = ctx.holder.state.datasets.get(run.key)
    prefix = args.prefix or (record.pinned_prefix if record else None)
    if not prefix:
        raise StepFailed(f"{run.address}: no caption prefix to set (none given, none pinned)")
    version = records.require_dataset_version(ctx.holder.state, run.key)
    await ctx.calls(ctx.api.update_dataset, version.remote_id, caption_prefix=prefix)
    await ctx.holder.update(lambda s: records.change_version(s, run.key, version.remote_id, caption_prefix=prefix))


async def regenerate_all_captions(ctx: RunContext, run: ChangeRun, args: RegenerateAllCaptionsArgs) -> None:
    version = records.require_dataset_version(ctx.holder.state, run.key)
    await ctx.calls(ctx.api.regenerate_all_captions, version.remote_id)
    started, delay = ctx.clock.monotonic(), min(0.5, ctx.poll_interval)
    while True:
        dataset = await ctx.calls(ctx.api.get_dataset, version.remote_id)
        if dataset.get("captions_update_status") == "completed":
            break
        if ctx.clock.monotonic() - started > ctx.config.captions_timeout:
            raise StepFailed(f"{run.address}: captions still regenerating after {ctx.config.captions_timeout:.0f}s")
        await ctx.calls.pause(ctx.clock, delay)
        delay = min(delay * 2, ctx.poll_interval)
    images = dataset.get("images") or await ctx.calls(ctx.api.list_images, version.remote_id)
    await ctx.holder.update(lambda s: records.refresh_captions(s, run.key, version.remote_id, images))
