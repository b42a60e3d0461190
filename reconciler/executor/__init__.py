"""The executor: the only code that mutates the API and writes state during a run.

`apply_plan` executes a Plan (see run.py); `resolve_leftovers` settles the journal of an
interrupted run before planning; `stale_reason` says why a saved plan can't be applied.

Modules:
  run.py        graph walk, concurrency, outcomes (ApplyResult), stale check
  steps.py      one handler per plan step (model.Op)
  journal.py    journaled calls (entry written in the call's slot), leftover resolution, adoption
  lookup.py     what a journaled call did: lookups over a settle window, memoised lists
  account.py    what the account held before a create (the journal entry's watermark)
  records.py    pure State transformations recording API objects
  holder.py     the single holder/writer of the latest State (group commit)
  calls.py      the single door to the API (bound BriaApi methods): in-flight bound, held slots, cancel, crash-test hook
  context.py    RunContext (what every step shares)
  config.py     RunConfig (the run's settings) and the default --parallelism
  training.py   --wait: follow training to the end; start/stop transitions
  progress.py   what the user sees (rich bars on a TTY, plain lines otherwise)
  summary.py    the end-of-run account, and `bria output` data
  importing.py  `bria import`: adopt an existing remote object into state
  discovery.py  `bria import --discover`: find a lost state's objects by name and parent
  clock.py      injected time
"""


from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

# The names below are imported when first used (PEP 562), so that `bria apply` can read its
# settings (executor/config.py) before the first API call and import the rest while that
# call is in flight (cli/apply.py).
_EXPORTS = {
    "Cancelled": "calls", "Clock": "clock", "RealClock": "clock", "RunConfig": "config",
    "ConsoleReporter": "progress", "Reporter": "progress",
    **{name: "run" for name in ("CANCELLED", "FAILED", "NOT_STARTED", "SKIPPED", "SUCCEEDED", "ApplyResult",
                                "ChangeOutcome", "PlanRefused", "apply_plan", "resolve_leftovers", "stale_reason")},
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from reconciler.executor.calls import Cancelled
    from reconciler.executor.clock import Clock, RealClock
    from reconciler.executor.config import RunConfig
    from reconciler.executor.progress import ConsoleReporter, Reporter
    from reconciler.executor.run import (CANCELLED, FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, ApplyResult,
                                         ChangeOutcome, PlanRefused, apply_plan, resolve_leftovers, stale_reason)
