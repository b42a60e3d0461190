"""The executor: the only code that mutates the API and writes state during a run.

`apply_plan` executes a Plan (see run.py); `resolve_leftovers` settles the journal of an
interrupted run before planning; `stale_reason` says why a saved plan can't be applied.
"""

from reconciler.executor.calls import Cancelled
from reconciler.executor.clock import Clock, RealClock
from reconciler.executor.progress import ConsoleReporter, Reporter
from reconciler.executor.run import (CANCELLED, FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, ApplyResult, ChangeOutcome,
                                     PlanRefused, apply_plan, resolve_leftovers, stale_reason)

__all__ = ["apply_plan", "resolve_leftovers", "stale_reason", "ApplyResult", "ChangeOutcome", "PlanRefused",
           "Cancelled", "Clock", "RealClock", "Reporter", "ConsoleReporter",
           "SUCCEEDED", "FAILED", "SKIPPED", "NOT_STARTED", "CANCELLED"]
