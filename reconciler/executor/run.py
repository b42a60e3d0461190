"""apply_plan: walk a plan's changes in dependency order and execute their steps.

- Changes run as soon as the changes they depend on have succeeded (or released them early:
  a dataset whose completion the API confirmed lets its models start while its captions are
  re-read and recorded, `ChangeRun.released`), independent ones in parallel; API calls in
  flight are bounded by `RunConfig.parallelism` (see calls.ApiCalls).
- Within a change, steps run in order, except that consecutive image steps (upload,
  delete, caption) on distinct images run concurrently.
- A failed change stops there; changes depending on it are skipped (never started);
  independent work carries on. State is saved after every mutation, so a re-run resumes.
- Cancellation (the CLI sets `cancel_event` on SIGINT/SIGTERM): no new call is started,
  calls in flight finish and are recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Mapping

from reconciler.api import ImageFileError, errors
from reconciler.api.protocol import BriaApi
from reconciler.executor.account import AccountView
from reconciler.executor.calls import ApiCalls, Cancelled
from reconciler.executor.clock import Clock, RealClock
from reconciler.executor.context import RunConfig, RunContext
from reconciler.executor.holder import StateHolder
from reconciler.executor.journal import resolve_journal
from reconciler.executor.progress import Reporter
from reconciler.executor.records import StepFailed
from reconciler.executor.steps import HANDLERS, IMAGE_OPS, ChangeRun
from reconciler.executor.training import follow_training
from reconciler.model import Action, Change, LiveView, Manifest, Op, Plan, Step, split_address
from reconciler.state.model import State
from reconciler.state.store import StateError, StateStore
from reconciler.status import FAILED_OR_STOPPED, is_known
from reconciler.stepargs import DeleteImageArgs, RegenerateCaptionArgs, SetCaptionArgs, UploadImageArgs

SUCCEEDED, FAILED, SKIPPED, NOT_STARTED, CANCELLED = "succeeded", "failed", "skipped", "not started", "cancelled"


class PlanRefused(Exception):
    """The plan holds refused changes (protected resources not allowed to be destroyed)."""


@dataclass(frozen=True)
class ChangeOutcome:
    address: str
    actions: tuple[str, ...]
    status: str                 # succeeded | failed | skipped | not started | cancelled
    message: str = ""


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[ChangeOutcome, ...]
    state: State
    cancelled: bool = False
    training: Mapping[str, str] = field(default_factory=dict)   # model address → last status seen
    waited: bool = False
    fatal: str | None = None    # the state could not be saved, so the run stopped
    api_calls: int = 0
    state_writes: int = 0
    undecided: tuple[str, ...] = ()   # journal entries whose outcome could not be decided: nothing ran

    def by_status(self, status: str) -> list[ChangeOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def training_failed(self) -> list[str]:
        return [a for a, s in self.training.items()
                if self.waited and (s in FAILED_OR_STOPPED or not is_known(s))]

    @property
    def ok(self) -> bool:
        return not self.cancelled and not self.fatal and not self.training_failed and not self.undecided and all(
            o.status == SUCCEEDED for o in self.outcomes)


def stale_reason(plan: Plan, state: State | None, manifest: Manifest) -> str | None:
    """Why a saved plan can no longer be applied as is, or None when it still can."""
    lineage = state.lineage if state is not None else None
    serial = state.serial if state is not None else 0
    # A state never written (serial 0) has a throwaway lineage: only written ones are compared.
    if serial > 0 and plan.state_lineage is not None and plan.state_lineage != lineage:
        return f"the state's lineage changed ({plan.state_lineage} → {lineage})"
    if serial != plan.state_serial:
        return f"the state changed since the plan was made (serial {plan.state_serial} → {serial})"
    if plan.manifest_digest and plan.manifest_digest != manifest.digest:
        return "the manifest (or its images) changed since the plan was made"
    return None


@dataclass(frozen=True)
class Leftovers:
    """What resolving an interrupted run's journal did: the state after it, a note per
    entry, and the notes of entries it could not decide (their entries stay)."""

    state: State
    notes: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()


async def resolve_leftovers(state: State, *, client: BriaApi, store: StateStore, manifest: Manifest | None,
                            clock: Clock | None = None, config: RunConfig | None = None) -> Leftovers:
    """Resolve the journal of an interrupted run (adopt, drop or keep each entry) before
    planning. While any entry stays undecided, nothing may be planned over it."""
    if not state.journal:
        return Leftovers(state)
    ctx = _context(client, store, state, manifest, config or RunConfig(), clock=clock)
    notes, undecided = await resolve_journal(ctx)
    return Leftovers(ctx.holder.state, tuple(notes), tuple(undecided))


async def apply_plan(plan: Plan, manifest: Manifest | None, state: State, *, client: BriaApi, store: StateStore,
                     config: RunConfig | None = None, wait: bool = False, reporter: Reporter | None = None,
                     cancel_event: asyncio.Event | None = None, clock: Clock | None = None,
                     live: LiveView | None = None) -> ApplyResult:
    """Execute `plan` against the API, recording everything in `store`, with the run's
    settings from `config`. See module doc.

    `live` (the refresh the plan was made from) seeds the journal's watermarks; without it
    each kind is listed once when first needed."""
    if plan.refused:
        raise PlanRefused(", ".join(c.address for c in plan.refused))
    ctx = _context(client, store, state, manifest, config or RunConfig(), clock=clock, reporter=reporter,
                   cancel_event=cancel_event)
    ctx.account = AccountView(live)
    if ctx.holder.state.journal:
        notes, undecided = await resolve_journal(ctx)
        for note in notes:
            ctx.reporter.note(note)
        if undecided:
            # Planned creates could duplicate what an undecided entry may have made: run nothing.
            ctx.reporter.close()
            return ApplyResult(tuple(ChangeOutcome(c.address, tuple(a.value for a in c.actions), NOT_STARTED,
                                                   "an earlier call's outcome is still undecided")
                                     for c in plan.changes if c.steps), ctx.holder.state,
                               undecided=tuple(undecided), api_calls=ctx.calls.count,
                               state_writes=ctx.holder.writes)
    runs = {c.address: ChangeRun(c) for c in plan.changes if c.actions != (Action.NOOP,) and c.steps}
    try:
        outcomes = await _walk(ctx, runs)
        trained = [a for a, r in runs.items() if r.trained]
        models = ctx.holder.state.models
        training: Mapping[str, str] = {a: models[split_address(a)[1]].status for a in trained
                                       if split_address(a)[1] in models}
        if wait and trained and not ctx.calls.cancelled:
            training = await follow_training(ctx, trained)
    finally:
        ctx.reporter.close()
    cancelled = ctx.calls.cancelled and ctx.fatal is None
    return ApplyResult(tuple(outcomes), ctx.holder.state, cancelled=cancelled, training=training, waited=wait,
                       fatal=ctx.fatal, api_calls=ctx.calls.count, state_writes=ctx.holder.writes)


def _context(client: BriaApi, store: StateStore, state: State, manifest: Manifest | None, config: RunConfig, *,
             clock: Clock | None = None, reporter: Reporter | None = None,
             cancel_event: asyncio.Event | None = None) -> RunContext:
    # A lock that cannot be lost (local: an flock lives as long as the process) is not checked
    # before each mutating call: the check is a no-op, and its thread hop cost ~60 µs of CPU.
    lock_check = store.check_lock if getattr(store, "lock_can_be_lost", True) else None
    calls = ApiCalls(parallelism=config.parallelism, cancel_event=cancel_event or asyncio.Event(),
                     kill_after_calls=config.kill_after_calls, lock_check=lock_check)
    return RunContext(client, calls, StateHolder(store, state), manifest, clock or RealClock(),
                      reporter or Reporter(), config)


async def _walk(ctx: RunContext, runs: dict[str, ChangeRun]) -> list[ChangeOutcome]:
    tasks: dict[str, asyncio.Task[ChangeOutcome]] = {}

    async def run_when_ready(run: ChangeRun) -> ChangeOutcome:
        actions = tuple(a.value for a in run.change.actions)
        for dep in run.change.depends_on:
            if dep in tasks and dep != run.address:
                before = await _outcome_or_release(tasks[dep], runs[dep])
                if before is not None and before.status != SUCCEEDED:
                    status = NOT_STARTED if before.status in (NOT_STARTED, CANCELLED) else SKIPPED
                    return ChangeOutcome(run.address, actions, status, f"{dep} {before.status}")
        if ctx.calls.cancelled:
            return ChangeOutcome(run.address, actions, NOT_STARTED, "cancelled")
        ctx.reporter.change_started(run.address, ", ".join(actions))
        outcome = ChangeOutcome(run.address, actions, *await _execute(ctx, run))
        ctx.reporter.change_finished(run.address, outcome.status, outcome.message)
        return outcome

    for address, run in runs.items():
        tasks[address] = asyncio.ensure_future(run_when_ready(run))
    return list(await asyncio.gather(*tasks.values()))


async def _outcome_or_release(task: asyncio.Task[ChangeOutcome], run: ChangeRun) -> ChangeOutcome | None:
    """The outcome of the change `run` (which `task` executes), or None as soon as it has
    released its dependents (`ChangeRun.released`): they may start while it finishes."""
    if not task.done() and not run.released.is_set():
        released = asyncio.ensure_future(run.released.wait())
        try:
            await asyncio.wait((task, released), return_when=asyncio.FIRST_COMPLETED)
        finally:
            released.cancel()
    return task.result() if task.done() else None


async def _execute(ctx: RunContext, run: ChangeRun) -> tuple[str, str]:
    """Run one change's steps; returns (status, message)."""
    try:
        for group in _step_groups(run.change):
            ctx.calls.check_cancelled()
            uploads = sum(1 for s in group if s.op is Op.UPLOAD_IMAGE)
            if uploads:
                ctx.reporter.uploads_started(run.address, uploads)
            if len(group) == 1:
                await HANDLERS[group[0].op](ctx, run, group[0].args)
            else:
                await _run_concurrently(ctx, run, group)
    except Cancelled:
        if ctx.fatal is not None:
            return CANCELLED, "stopped: the state could not be saved"
        return CANCELLED, "cancelled before finishing (state saved; re-run to resume)"
    except StateError as exc:
        # Going on would change the API without recording it: stop everything.
        ctx.fatal = ctx.fatal or str(exc)
        ctx.calls.stop()
        return FAILED, f"the state could not be saved: {exc}"
    except (errors.ApiError, StepFailed, ImageFileError, OSError) as exc:
        return FAILED, str(exc)
    except Exception as exc:   # a bug must not take independent changes down with it
        return FAILED, f"internal error: {type(exc).__name__}: {exc}"
    return SUCCEEDED, ""


async def _run_concurrently(ctx: RunContext, run: ChangeRun, group: list[Step]) -> None:
    # Twice as many workers as calls may be in flight, not a coroutine per image: 25 datasets
    # of 200 uploads would otherwise hold 5,000 suspended steps (and their memory) at once.
    # The second half waits for a slot (a journal entry is written only once the slot is
    # held, so at most `parallelism` entries exist): when an upload's answer frees its slot,
    # a waiting worker takes it at once, and the first one's record and the next one's journal
    # entry go out in one state write (see holder.py) instead of one after the other.
    pending = iter(group)
    results: list[Any] = []

    async def worker() -> None:
        for step in pending:
            try:
                results.append(await HANDLERS[step.op](ctx, run, step.args))
            except Exception as exc:     # as gather(return_exceptions=True): every failure is kept
                results.append(exc)

    await asyncio.gather(*(worker() for _ in range(min(len(group), 2 * ctx.calls.parallelism))))
    failures = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Cancelled)]
    for failure in failures:
        if isinstance(failure, StateError):
            raise failure
    if failures:
        extra = f" (and {len(failures) - 1} more image failures)" if len(failures) > 1 else ""
        raise StepFailed(f"{failures[0]}{extra}") if extra else failures[0]
    if any(isinstance(r, Cancelled) for r in results):
        raise Cancelled()


def _step_groups(change: Change) -> list[list[Step]]:
    """Steps in order, consecutive image steps on distinct images grouped to run together."""
    groups: list[list[Step]] = []
    images: set[object] = set()
    for step in change.steps:
        image = _image_of(step)
        if (step.op in IMAGE_OPS and groups and groups[-1][0].op in IMAGE_OPS and image not in images):
            groups[-1].append(step)
        else:
            groups.append([step])
            images = set()
        images.add(image)
    return groups


def _image_of(step: Step) -> object:
    """Which image a step touches: its content, or for a stray (no sha256) its remote id and
    copy index (distinct for distinct strays, on the planned version and on its clone)."""
    args = step.args
    if isinstance(args, DeleteImageArgs) and args.is_stray:
        return ("stray", args.remote_id, args.copy_index)
    if isinstance(args, (DeleteImageArgs, UploadImageArgs, SetCaptionArgs, RegenerateCaptionArgs)):
        return args.sha256
    return None
