"""The CLI side of "safe in a shared account": the flags, and the checks plan and apply share.

- `--accept-missing`: plan even though the account does not look like the state's
  (planner/account_check.py): another endpoint, or most recorded objects missing.
- `--allow-duplicate-names`: create even where an untracked look-alike exists
  (planner/lookalikes.py); per resource, the manifest's `allow_duplicate_name: true`.
- `--settle-window SECONDS` (apply/destroy): how long a create whose outcome is unknown is
  looked for before bria concludes it did nothing (executor/lookup.py).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import click

from reconciler.model import LiveView
from reconciler.state.model import State

DEFAULT_SETTLE_WINDOW = 5.0


def account_options(f: Any) -> Any:
    f = click.option("--allow-duplicate-names", "allow_duplicates", is_flag=True,
                     help="Create projects/datasets/models even where the account already holds an untracked "
                          "one with the same name and parent.")(f)
    return click.option("--accept-missing", is_flag=True,
                        help="Plan even when the state was made against another endpoint or most of what it "
                             "records is missing from the account (re-creating it).")(f)


def settle_option(f: Any) -> Any:
    return click.option("--settle-window", type=click.FloatRange(min=0), default=DEFAULT_SETTLE_WINDOW,
                        show_default=True, metavar="SECONDS",
                        help="How long a create whose answer was lost is looked for before it counts as not "
                             "done.")(f)


def mismatch_message(state: State, live: LiveView | None, endpoint: str, accept_missing: bool) -> str | None:
    """The refusal to print (exit 1) when the account does not match the state, else None."""
    from reconciler.planner.account_check import account_mismatch   # the planner: imported when planning

    if accept_missing:
        return None
    reason = account_mismatch(state, live, endpoint)
    return f"refusing to plan: {reason}" if reason else None


def duplicates_message(duplicates: Iterable[Mapping[str, Any]]) -> str:
    listed = "; ".join(f"{d['address']} would duplicate {d['kind']} {d['remote_id']} ({d['import_command']})"
                       for d in duplicates)
    return (f"refusing to create duplicates of untracked objects: {listed}. Adopt them with the `bria import` "
            f"commands shown (or `bria import --discover`), or allow the duplicates with "
            f"allow_duplicate_name: true on the resource or --allow-duplicate-names")
