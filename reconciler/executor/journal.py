"""The journal: making non-idempotent calls (create, clone, upload) crash-safe.

The API has no idempotency key, so a create whose response is lost — or a process killed
between the call and the state write — would produce a duplicate if simply retried.
Instead an entry is written to state *before* the call and removed, together with the
recorded result, after it. The entry is written only once the call holds its concurrency
slot (`ApiCalls.slot`), so a kill leaves at most `parallelism` entries.

Outcome unknown means outcome unknown: when a call may have committed (lookup.outcome_unknown)
the object is looked up over a settle window; exactly one match is adopted, several are
reported and adopt none (the entry stays, the run ends "partly done"), none means the call
did nothing and it is made again (up to MAX_ATTEMPTS) under the same entry. Only a
candidate the entry's watermark allows is ever adopted (planner/journal_match.py): never an
object that existed before the call, so never another state's.

Two state transitions are journaled the same way although they create nothing, because
later runs trust their record instead of re-reading: COMPLETE_DATASET and START_TRAINING.
Their "lookup" re-reads the dataset/model. DELETE_MODEL of a replaced, never-trained model
is journaled too, so a kill right after it cannot leave a superseded record of a model that
no longer exists.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any, Awaitable, Callable, Mapping

from reconciler.api import errors
from reconciler.executor import records
from reconciler.executor.calls import Cancelled, HeldSlot
from reconciler.executor.context import RunContext
from reconciler.executor.holder import StateChange
from reconciler.executor.lookup import Caller, Listings, age_seconds, find_remote, outcome_unknown, settled_lookup
from reconciler.identity import is_content_key
from reconciler.model import Op, split_address
from reconciler.planner.journal_match import CREATE_KIND, ambiguity_message
from reconciler.state.model import JournalEntry, State
from reconciler.status import ModelStatus

Remote = Mapping[str, Any]


def new_entry(ctx: RunContext, op: Op, address: str, name: str, parent_id: int | None,
              **detail: Any) -> JournalEntry:
    return JournalEntry(id=str(uuid.uuid4()), op=op.value, address=address, name=name, parent_id=parent_id,
                        detail=detail, started_at=ctx.clock.now_iso())


MAX_ATTEMPTS = 3          # tries of a journaled call that demonstrably created nothing


class Undecided(records.StepFailed):
    """A journaled call's outcome could not be decided; its entry stays for the next run."""


async def journaled(ctx: RunContext, entry: JournalEntry, call: Callable[[HeldSlot], Awaitable[Remote]]) -> Remote:
    """Run a non-idempotent `call` (given the held slot's caller) under a journal entry and
    record its result. See the module doc for what happens when its outcome is unknown."""
    async with ctx.calls.slot() as held:
        entry = await _write_entry(ctx, entry, held)
        remote = await _attempts(ctx, entry, held, call)
        change = await adoption(ctx, entry, remote, held)
    await ctx.holder.update(lambda s: change(s).without_journal_entry(entry.id))
    kind = CREATE_KIND.get(entry.op)
    if kind is not None:
        ctx.account.created(kind, remote)
    return remote


async def _write_entry(ctx: RunContext, entry: JournalEntry, held: HeldSlot) -> JournalEntry:
    kind = CREATE_KIND.get(entry.op)
    if kind is not None:
        mark = await ctx.account.watermark(kind, entry.name, entry.parent_id, _reader(ctx), ctx.api)
        entry = replace(entry, detail={**entry.detail, **mark}, started_at=ctx.clock.now_iso())
    await ctx.holder.update(lambda s: s.with_journal_entry(entry))
    return entry


def _reader(ctx: RunContext) -> Caller:
    """Reads made while holding the slot, before the entry exists, that must not count as the
    journaled call having started (a cancellation then still drops the entry)."""
    return ctx.calls.unslotted


async def _attempts(ctx: RunContext, entry: JournalEntry, held: HeldSlot,
                    call: Callable[[HeldSlot], Awaitable[Remote]]) -> Remote:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call(held)
        except Cancelled:
            if held.started == 0:
                await _drop(ctx, entry)   # the call was never started
            raise                         # otherwise the outcome is unknown: the entry stays
        except Exception as exc:
            if not outcome_unknown(exc):
                if held.started <= 1:
                    await _drop(ctx, entry)   # a definite answer to the one call: nothing was done
                raise
            found = await _look(ctx, entry, held, exc)
            if found is not None:
                return found
            if attempt == MAX_ATTEMPTS or ctx.calls.cancelled:
                raise Undecided(f"{_describe(entry)}: {attempt} attempt(s) failed and nothing was found after "
                                f"{ctx.config.settle_window:g}s; left in the journal — the next run resolves it ({exc})"
                                ) from exc
    raise AssertionError("unreachable")


async def _look(ctx: RunContext, entry: JournalEntry, held: HeldSlot, exc: BaseException) -> Remote | None:
    try:
        found = await settled_lookup(ctx, entry, held)
    except errors.ApiError as lookup_error:
        raise Undecided(f"{_describe(entry)}: the outcome is unknown ({exc}) and the lookup failed "
                        f"({lookup_error}); left in the journal — the next run resolves it") from exc
    if found.ambiguous:
        raise Undecided(ambiguity_message(entry, found.ambiguous)) from exc
    return found.found


async def resolve_journal(ctx: RunContext) -> tuple[list[str], list[str]]:
    """Resolve every leftover entry: adopt what exists, drop what does not, keep what cannot
    be decided. Lists are read once per parent, concurrently. Returns (notes, undecided)."""
    results: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for _ in range(2):   # a second pass for the model deletes that adopting a replacement queues
        entries = [e for e in ctx.holder.state.journal if e.id not in seen]
        seen.update(e.id for e in entries)
        listings = Listings(ctx.calls)
        results += await asyncio.gather(*(_resolve_one(ctx, e, listings) for e in entries))
    notes = [note for note, _ in results]
    undecided = [note for note, decided in results if not decided]
    return notes, undecided


async def _resolve_one(ctx: RunContext, entry: JournalEntry, listings: Listings) -> tuple[str, bool]:
    try:
        found = await find_remote(ctx.api, entry, ctx.holder.state, listings)
        if found.none and age_seconds(ctx, entry) < ctx.config.settle_window:
            found = await settled_lookup(ctx, entry, ctx.calls, waited=age_seconds(ctx, entry))
    except errors.ApiError as exc:
        return f"{_describe(entry)}: could not look it up ({exc}); still pending", False
    if found.ambiguous:
        return ambiguity_message(entry, found.ambiguous), False
    if entry.op == Op.DELETE_MODEL.value:
        await finish_model_delete(ctx, entry, ctx.calls, exists=found.found is not None)
        return f"{entry.address}: the replaced, never-trained model {entry.parent_id} is deleted", True
    if found.found is None:
        await _drop(ctx, entry)
        return f"{_describe(entry)}: not found in the API; it will be done again", True
    change = await adoption(ctx, entry, found.found, ctx.calls)
    await ctx.holder.update(lambda s: change(s).without_journal_entry(entry.id))
    return f"{_describe(entry)}: found remote id {found.found['id']}; adopted into state", True


async def _drop(ctx: RunContext, entry: JournalEntry) -> None:
    await ctx.holder.update(lambda s: s.without_journal_entry(entry.id))


def _describe(entry: JournalEntry) -> str:
    return f"{entry.address}: interrupted {entry.op.replace('_', ' ')} {entry.name!r}"


def model_delete_entry(ctx: RunContext, address: str, remote_id: int) -> JournalEntry:
    """The intent to delete a replaced model that never trained (see module doc)."""
    return new_entry(ctx, Op.DELETE_MODEL, address, str(remote_id), remote_id)


async def finish_model_delete(ctx: RunContext, entry: JournalEntry, call: Caller, *, exists: bool = True) -> None:
    """Delete the model (idempotent) and, in one state write, its record and the entry."""
    if exists:
        try:
            await call(ctx.api.delete_model, int(entry.parent_id or 0))
        except errors.NotFound:
            pass
    _, key = split_address(entry.address)
    await ctx.holder.update(
        lambda s: records.without_model(s, key, int(entry.parent_id or 0)).without_journal_entry(entry.id))


# --- adoption: how a found (or freshly created) object is recorded -------------------------


async def adoption(ctx: RunContext, entry: JournalEntry, remote: Remote, call: Caller) -> StateChange:
    """The state change that records `remote` as the result of `entry`'s call."""
    _, key = split_address(entry.address)
    detail = entry.detail
    if entry.op == Op.CREATE_PROJECT.value:
        return lambda s: records.record_project(s, key, remote)
    if entry.op == Op.CREATE_DATASET.value:
        return lambda s: records.record_dataset_version(s, key, detail["project"], remote)
    if entry.op == Op.CLONE_DATASET.value:
        full = await call(ctx.api.get_dataset, remote["id"])
        return lambda s: records.record_dataset_version(
            s, key, detail["project"], full,
            _content_keyed(ctx, s, key, detail.get("source_remote_id"), full.get("images") or ()))
    if entry.op == Op.UPLOAD_IMAGE.value:
        return lambda s: records.with_image(s, key, int(entry.parent_id or 0), detail["sha256"],
                                            records.image_record(remote))
    if entry.op == Op.COMPLETE_DATASET.value:
        frozen = remote if "images" in remote else await call(ctx.api.get_dataset, entry.parent_id)
        return lambda s: records.record_completed_images(
            records.change_version(s, key, int(entry.parent_id or 0), status=frozen.get("status") or "completed"),
            key, int(entry.parent_id or 0), frozen.get("images") or (), _manifest_content(ctx, key).values())
    if entry.op == Op.START_TRAINING.value:
        return lambda s: records.change_model(
            s, key, status=remote.get("status") or ModelStatus.IN_PROGRESS.value, training_parameters=detail.get("parameters") or {},
            generation_prefix=remote.get("generation_prefix") or None)
    if entry.op == Op.CREATE_MODEL.value:
        # A replaced model that never trained is deleted once its successor exists; the intent
        # is journaled in the same write that records the successor, so no kill can forget it.
        old = detail.get("delete_superseded")
        intent = model_delete_entry(ctx, entry.address, int(old)) if old is not None else None

        def record(s: State) -> State:
            s = records.record_model(
                s, key, remote, dataset_key=detail["dataset"],
                training_parameters=detail.get("training_parameters") or {},
                supersede_reason=detail.get("supersede_reason") or "replaced", forgotten=detail.get("forgotten"))
            return s.with_journal_entry(intent) if intent is not None else s
        return record
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
