"""`bria apply --reviewed-plan FILE`: apply on main only what was reviewed on the pull request.

The reviewed plan (`bria plan --out plan.json` on the PR) is not executed as is. bria plans
again, on main, from the current state and API, and compares the two plans change by change:
addresses, actions, steps (with their arguments), the values before and after, images, and
the protected/refused flags. What may legitimately differ is ignored: the state's serial and
lineage, the manifest's path and digest (main's checkout is another folder, and a merge may
change files without changing what is done), notes, drift lines, and the last observed
training status in `before` (a training that ended changes the actions when it matters).
When they match, the fresh plan is applied without a prompt — the review was the approval;
when they differ, nothing is done: exit 4 and a unified diff of what changed.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Mapping

MAX_DIFF_LINES = 200
_CHANGE_KEYS = ("address", "actions", "steps", "before", "after", "images", "protected", "refused")
_IGNORED_BEFORE_KEYS = frozenset({"status"})


def comparable(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parts of a plan (its JSON form) that say what will be done."""
    changes = []
    for change in plan.get("changes") or ():
        kept = {key: change.get(key) for key in _CHANGE_KEYS}
        if isinstance(kept["before"], Mapping):
            kept["before"] = {k: v for k, v in kept["before"].items() if k not in _IGNORED_BEFORE_KEYS}
        changes.append(kept)
    return changes


def plan_differences(reviewed: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    """A unified diff (reviewed → now) of what the plans do; [] when they do the same."""
    before, after = _lines(comparable(reviewed)), _lines(comparable(fresh))
    if before == after:
        return []
    diff = list(difflib.unified_diff(before, after, "reviewed plan", "plan on this branch now", n=2, lineterm=""))
    if len(diff) > MAX_DIFF_LINES:
        diff = diff[:MAX_DIFF_LINES] + [f"… {len(diff) - MAX_DIFF_LINES} more diff lines"]
    return diff


def _lines(changes: list[dict[str, Any]]) -> list[str]:
    return json.dumps(changes, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def refusal_message(path: str, diff: list[str]) -> str:
    return (f"the plan made now differs from the reviewed plan {path}; nothing was applied. "
            "Plan and review again (the differences, reviewed → now):\n" + "\n".join(diff))
