"""The vocabulary every plan view shares: how a change is classified, its symbol, tone and
verb, and the one-line plan summary.

Everything here reads the JSON form of a plan (`Plan.to_dict()`), never model objects, so
a saved plan renders exactly like a fresh one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping

from reconciler.model import Action, Op, Step, split_address
from reconciler.reasons import words_of


class Tone(str, enum.Enum):
    """What a line means, independent of how a view shows it (colour, diff column…)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"          # destroy, then create
    NEW_VERSION = "new_version"  # create a successor; the old object is kept
    WARN = "warn"
    COMMENT = "comment"
    HEADING = "heading"
    PLAIN = "plain"


@dataclass(frozen=True)
class ChangeStyle:
    """How one kind of change is presented."""

    kind: str          # stable name, e.g. "create", "new_version", "replace"
    symbol: str        # margin symbol: "+", "~", "-", "-/+", "+/~"
    tone: Tone
    legend: str        # what the symbol means, for the legend


CREATE = ChangeStyle("create", "+", Tone.CREATE, "create")
UPDATE = ChangeStyle("update", "~", Tone.UPDATE, "update in place (also: start or stop training)")
DELETE = ChangeStyle("delete", "-", Tone.DELETE, "destroy")
REPLACE = ChangeStyle("replace", "-/+", Tone.REPLACE, "destroy, then create a replacement")
NEW_VERSION = ChangeStyle("new_version", "+/~", Tone.NEW_VERSION,
                          "create a new version; the old one is KEPT (not destroyed)")
MOVE = ChangeStyle("move", "=>", Tone.UPDATE, "move to a new address (state only: no API call)")
IMPORT = ChangeStyle("import", "<=", Tone.CREATE, "import an existing object (reads only)")
FORGET = ChangeStyle("forget", "x", Tone.DELETE, "forget: drop from the state, leave the object in the API")
NOOP = ChangeStyle("noop", " ", Tone.PLAIN, "no change")
# State-only actions that accompany another action of the same change (moved, then updated).
_STATE_ONLY = frozenset({Action.MOVE.value, Action.IMPORT.value})

# What a protected change would destroy, per resource kind (for the refusal message).
_DESTROYS = {
    "model": "a trained model",
    "project": "a project and every dataset and model in it",
    "dataset": "a dataset that trained models depend on",
}


def actions_of(change: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(change.get("actions") or ())


def is_noop(change: Mapping[str, Any]) -> bool:
    return set(actions_of(change)) <= {Action.NOOP.value}


def ops_of(change: Mapping[str, Any]) -> list[str]:
    return [str(step.get("op")) for step in change.get("steps") or ()]


def typed_steps(change: Mapping[str, Any]) -> list[Step]:
    """The change's steps read through their argument classes (stepargs); a step this bria
    cannot read (a plan from another version) is left out of the pictures, not fatal."""
    steps = []
    for step in change.get("steps") or ():
        try:
            steps.append(Step.from_dict(step))
        except (KeyError, TypeError, ValueError):
            continue
    return steps


def is_kept_replacement(change: Mapping[str, Any]) -> bool:
    """A model replaced by a new one while the old one stays, recorded as superseded.

    The supersede_model step is the signal (the reason is for people and not relied on):
    a model recreated because its old self is gone (deleted outside bria, or with its
    project) has a forget step instead, and nothing is kept."""
    acts = set(actions_of(change))
    if Action.CREATE.value not in acts or Action.DELETE.value in acts:
        return False
    ops = ops_of(change)
    gone = {Op.FORGET.value, Op.DELETE_MODEL.value} & set(ops)
    return Op.SUPERSEDE_MODEL.value in ops and not gone


def style_of(change: Mapping[str, Any]) -> ChangeStyle:
    every = set(actions_of(change))
    acts = every - _STATE_ONLY
    if not acts - {Action.NOOP.value}:
        if Action.IMPORT.value in every:
            return IMPORT
        return MOVE if Action.MOVE.value in every else NOOP
    if Action.FORGET.value in acts:
        return FORGET
    if Action.DELETE.value in acts and Action.CREATE.value in acts:
        return REPLACE
    if Action.CLONE.value in acts or is_kept_replacement(change):
        return NEW_VERSION
    if Action.CREATE.value in acts:
        return CREATE
    if Action.DELETE.value in acts:
        return DELETE
    if acts & {Action.UPDATE.value, Action.TRAIN.value, Action.STOP.value}:
        return UPDATE
    return NOOP


def verb_of(change: Mapping[str, Any]) -> str:
    """What will happen, as the end of a sentence starting with the address."""
    head = _state_only_head(change)
    style = style_of(change)
    if change.get("reason") == "delete_because_superseded_and_pruned":
        return "will lose its superseded models (its current model stays)"
    if style in (MOVE, IMPORT):
        return head + " (state only: no API change)"
    if style is FORGET:
        return "will be forgotten: removed from the state, the object stays in the API untouched"
    rest = _verb_of(change)
    return f"{head}, then {rest.removeprefix('will ')}" if head else rest


def _state_only_head(change: Mapping[str, Any]) -> str:
    """"has moved from X" / "will be imported (remote #N)", or "" for other changes."""
    parts = []
    for step in change.get("steps") or ():
        args = step.get("args") or {}
        if step.get("op") == Op.MOVE_ADDRESS.value:
            parts.append(f"has moved from {args.get('from')}")
        elif step.get("op") == Op.IMPORT_RESOURCE.value:
            parts.append(f"will be imported (remote #{args.get('remote_id')})")
    return " and ".join(parts)


def _verb_of(change: Mapping[str, Any]) -> str:
    acts = set(actions_of(change))
    style = style_of(change)
    trains = Action.TRAIN.value in acts
    if style is REPLACE:
        return "will be destroyed and then created again"
    if style is NEW_VERSION:
        if Action.CLONE.value in acts:
            return "will get a new version (a draft cloned from the completed one)"
        return "will be replaced by a new model" + (" and trained" if trains else "")
    if style is CREATE:
        return "will be created" + (" and trained" if trains else "")
    if style is DELETE:
        stops = Action.STOP.value in acts
        return "will stop training, then be destroyed" if stops else "will be destroyed"
    if Action.STOP.value in acts:
        return "will stop training (irreversible: a stopped model cannot be restarted)"
    if trains and Action.UPDATE.value in acts:
        return "will be updated in place and start training"
    if trains:
        return "will start training"
    if style is UPDATE:
        return "will be updated in place"
    return "has no changes"


def reason_text(change: Mapping[str, Any]) -> str | None:
    """The planner's reason in words (reasons.WORDING), or None when it only repeats the verb."""
    return words_of(str(change.get("reason") or ""))


def destroys_what(address: str) -> str:
    try:
        kind = split_address(address)[0]
    except ValueError:
        return "a protected resource"
    return _DESTROYS.get(kind, "a protected resource")


def refusal_text(address: str) -> str:
    return (f"refused: would destroy {destroys_what(address)}; "
            f"re-run with --allow-destroy {address}")


def protected_text(address: str) -> str:
    return f"protected: destroys {destroys_what(address)} (allowed by --allow-destroy)"


def summary_counts(plan: Mapping[str, Any]) -> dict[str, int]:
    summary = plan.get("summary") or {}
    return {k: int(summary.get(k) or 0)
            for k in ("add", "change", "destroy", "images_to_upload", "models_to_train")}


def plural(n: int, noun: str) -> str:
    """"1 image", "2 images", "0 images"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_line(plan: Mapping[str, Any]) -> str:
    """The fixed-wording summary; scripts and people grep for it, so it never varies. State-only
    changes (moved/import/removed blocks) follow in a second sentence when there are some."""
    s = summary_counts(plan)
    line = (f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy; "
            f"{plural(s['images_to_upload'], 'image')} to upload; {plural(s['models_to_train'], 'model')} to train.")
    extra = plan.get("summary") or {}
    state_only = [f"{int(extra[k])} to {k}" for k in ("move", "import", "forget") if extra.get(k)]
    return line + (f" State only: {', '.join(state_only)}." if state_only else "")


NO_CHANGES_LINE = "No changes. Your Bria resources match the manifest."
# With drift shown above, "match" would contradict them (e.g. a stray image kept on
# a trained version): say only that there is nothing to apply.
NO_CHANGES_WITH_NOTES_LINE = "No changes to apply; see the changes made outside bria above."


def no_changes_line(plan: Mapping[str, Any]) -> str:
    return NO_CHANGES_WITH_NOTES_LINE if plan.get("drift") else NO_CHANGES_LINE


def visible_changes(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Changes that do something (pure no-ops are not shown), in plan order."""
    return [c for c in plan.get("changes") or () if not is_noop(c)]


def has_changes(plan: Mapping[str, Any]) -> bool:
    return bool(visible_changes(plan))


def refused_changes(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in plan.get("changes") or () if c.get("refused")]
