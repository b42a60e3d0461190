"""The journal: making non-idempotent calls (create, clone, upload) crash-safe.

The API has no idempotency key, so a create whose response is lost — or a process killed
between the call and the state write — would produce a duplicate if simply retried.
Instead an entry is written to state *before* the call and removed, together with the
recorded result, after it. A leftover entry is resolved by looking the object up by name and
parent and adopting it (or dropping the entry when nothing is there, so the step runs again).

Two state transitions are journaled the same way although they create nothing, because
later runs trust their record instead of re-reading: COMPLETE_DATASET (a completed version
is frozen; its record must be the API's content at that moment) and START_TRAINING (its
status and generation_prefix are what `bria output` reports). Their "lookup" re-reads the
dataset/model and adopts the transition if it happened.
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Mapping

from reconciler.api import errors
from reconciler.executor import records
from reconciler.executor.calls import Cancelled
from reconciler.executor.context import RunContext
from reconciler.executor.holder import StateChange
from reconciler.identity import is_content_key
from reconciler.model import Op, split_address
from reconciler.state.model import JournalEntry, State
from reconciler.status import ModelStatus

Remote = Mapping[str, Any]


def new_entry(ctx: RunContext, op: Op, address: str, name: str, parent_id: int | None,
              **detail: Any) -> JournalEntry:
    return JournalEntry(id=str(uuid.uuid4()), op=op.value, address=address, name=name, parent_id=parent_id,
                        detail=detail, started_at=ctx.clock.now_iso())


MAX_ATTEMPTS = 3          # tries of a journaled call that failed without creating anything


async def journaled(ctx: RunContext, entry: JournalEntry, call: Callable[[], Awaitable[Remote]]) -> Remote:
    """Run a non-idempotent `call` under a journal entry and record its result.

    When the call fails in a way that may or may not have created the object (a lost
    response, a 5xx, a rate limit), the object is looked up: if it exists it is adopted; if
    it does not, the call is safe to make again (up to MAX_ATTEMPTS) — except after a lost
    response, where the entry stays journaled for the next run to resolve.
    """
    await ctx.holder.update(lambda s: s.with_journal_entry(entry))
    remote: Remote | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            remote = await call()
            break
        except Cancelled:
            await _drop(ctx, entry)   # the call was never started
            raise
        except (errors.TransportError, errors.ServerError, errors.RateLimited) as exc:
            remote = await find_remote(ctx, entry, ctx.holder.state)
            if remote is not None:
                break
            if isinstance(exc, errors.OutcomeUnknown):
                raise records.StepFailed(
                    f"{_describe(entry)}: the response was lost and the object was not found; "
                    f"left in the journal — the next run resolves it ({exc})") from exc
            if attempt == MAX_ATTEMPTS or ctx.calls.cancelled:
                await _drop(ctx, entry)
                raise
            await ctx.clock.sleep(0.5 * attempt)
        except Exception:
            await _drop(ctx, entry)   # a definite API error: nothing was created
            raise
    assert remote is not None
    change = await adoption(ctx, entry, remote)
    await ctx.holder.update(lambda s: change(s).without_journal_entry(entry.id))
    return remote


async def resolve_journal(ctx: RunContext) -> list[str]:
    """Resolve every leftover entry: adopt what exists, drop what does not. Returns notes."""
    notes: list[str] = []
    for entry in list(ctx.holder.state.journal):
        try:
            found = await find_remote(ctx, entry, ctx.holder.state)
        except errors.ApiError as exc:
            notes.append(f"{_describe(entry)}: could not look it up ({exc}); still pending")
            continue
        if found is None:
            await _drop(ctx, entry)
            notes.append(f"{_describe(entry)}: not found in the API; it will be done again")
            continue
        change = await adoption(ctx, entry, found)
        await ctx.holder.update(lambda s, c=change, e=entry: c(s).without_journal_entry(e.id))
        notes.append(f"{_describe(entry)}: found remote id {found['id']}; adopted into state")
    return notes


async def _drop(ctx: RunContext, entry: JournalEntry) -> None:
    await ctx.holder.update(lambda s: s.without_journal_entry(entry.id))


def _describe(entry: JournalEntry) -> str:
    return f"{entry.address}: interrupted {entry.op.replace('_', ' ')} {entry.name!r}"


# --- lookup: find the object a journal entry was about ---------------------------------------


async def find_remote(ctx: RunContext, entry: JournalEntry, state: State) -> Remote | None:
    """The object the entry's call created, looked up by name and parent, or None."""
    taken = records.recorded_ids(state)
    try:
        if entry.op == Op.CREATE_PROJECT.value:
            candidates = [p for p in await ctx.calls(ctx.api.list_projects)
                          if p.get("project_name") == entry.name and p["id"] not in taken["project"]]
        elif entry.op in (Op.CREATE_DATASET.value, Op.CLONE_DATASET.value):
            candidates = [d for d in await ctx.calls(ctx.api.list_project_datasets, entry.parent_id)
                          if d.get("name") == entry.name and d["id"] not in taken["dataset"]
                          and d["id"] != entry.detail.get("source_remote_id")]
        elif entry.op == Op.UPLOAD_IMAGE.value:
            _, key = split_address(entry.address)
            version = records.version_by_id(state, key, int(entry.parent_id or 0))
            recorded = {r.remote_id for r in version.images.values()} if version else set()
            candidates = [i for i in await ctx.calls(ctx.api.list_images, entry.parent_id)
                          if i.get("image_name") == entry.name and i["id"] not in recorded]
        elif entry.op == Op.COMPLETE_DATASET.value:
            dataset = await ctx.calls(ctx.api.get_dataset, entry.parent_id)
            candidates = [dataset] if dataset.get("status") == "completed" else []
        elif entry.op == Op.START_TRAINING.value:
            model = await ctx.calls(ctx.api.get_model, entry.parent_id)
            candidates = [model] if model.get("status") not in (None, ModelStatus.CREATED) else []
        elif entry.op == Op.CREATE_MODEL.value:
            candidates = [m for m in await ctx.calls(ctx.api.list_models)
                          if m.get("name") == entry.name and m.get("dataset_id") == entry.parent_id
                          and m["id"] not in taken["model"]]
        else:
            return None
    except errors.NotFound:
        return None   # the parent is gone, so the object cannot exist
    return min(candidates, key=lambda o: o["id"]) if candidates else None


# --- adoption: how a found (or freshly created) object is recorded -------------------------


async def adoption(ctx: RunContext, entry: JournalEntry, remote: Remote) -> StateChange:
    """The state change that records `remote` as the result of `entry`'s call."""
    _, key = split_address(entry.address)
    detail = entry.detail
    if entry.op == Op.CREATE_PROJECT.value:
        return lambda s: records.record_project(s, key, remote)
    if entry.op == Op.CREATE_DATASET.value:
        return lambda s: records.record_dataset_version(s, key, detail["project"], remote)
    if entry.op == Op.CLONE_DATASET.value:
        full = await ctx.calls(ctx.api.get_dataset, remote["id"])
        return lambda s: records.record_dataset_version(
            s, key, detail["project"], full,
            _content_keyed(ctx, s, key, detail.get("source_remote_id"), full.get("images") or ()))
    if entry.op == Op.UPLOAD_IMAGE.value:
        return lambda s: records.with_image(s, key, int(entry.parent_id or 0), detail["sha256"],
                                            records.image_record(remote))
    if entry.op == Op.COMPLETE_DATASET.value:
        frozen = remote if "images" in remote else await ctx.calls(ctx.api.get_dataset, entry.parent_id)
        return lambda s: records.record_completed_images(
            records.change_version(s, key, int(entry.parent_id or 0), status=frozen.get("status") or "completed"),
            key, int(entry.parent_id or 0), frozen.get("images") or (), _manifest_content(ctx, key).values())
    if entry.op == Op.START_TRAINING.value:
        return lambda s: records.change_model(
            s, key, status=remote.get("status") or ModelStatus.IN_PROGRESS.value, training_parameters=detail.get("parameters") or {},
            generation_prefix=remote.get("generation_prefix") or None)
    if entry.op == Op.CREATE_MODEL.value:
        return lambda s: records.record_model(
            s, key, remote, dataset_key=detail["dataset"],
            training_parameters=detail.get("training_parameters") or {},
            supersede_reason=detail.get("supersede_reason") or "replaced", forgotten=detail.get("forgotten"))
    raise ValueError(f"unknown journal op {entry.op!r}")


def _content_keyed(ctx: RunContext, state: State, key: str, source_id: Any, remote_images: Any) -> dict:
    """A clone's images keyed by sha256, through image_name: the content the source version
    recorded and the manifest's declaration of the dataset. What matches nothing is a stray
    (`identity.stray_key`), as the planner saw it in the source version, so the plan's
    DELETE_IMAGE steps for strays find their copies (steps.delete_image)."""
    source = records.version_by_id(state, key, int(source_id)) if source_id is not None else None
    known = {img.image_name: sha for sha, img in (source.images.items() if source else ())
             if is_content_key(sha)}
    known.update(_manifest_content(ctx, key))
    return records.map_images_to_content(remote_images, known, sorted(set(known.values())))


def _manifest_content(ctx: RunContext, key: str) -> dict[str, str]:
    """image_name → sha256 of the manifest's declaration of dataset `key` (empty if none)."""
    spec = ctx.manifest.datasets.get(key) if ctx.manifest is not None else None
    return {img.image_name: img.sha256 for img in spec.images} if spec is not None else {}
