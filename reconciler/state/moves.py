"""Moving a state record to another address (`moved:` blocks, `bria state mv`). Pure.

A move renames the record and every reference to its key — a dataset's `project`, a
model's `dataset`, journal entries' address and parent keys — so the planner sees the
same remote objects under their new names and plans no API call for them.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model import split_address
from reconciler.state.model import JournalEntry, State


class MoveError(ValueError):
    """The move cannot be made (message says why)."""


def move_resource(state: State, source: str, destination: str) -> State:
    """`state` with the record at `source` now at `destination`. Raises MoveError when the
    kinds differ, `source` is not in the state or `destination` already is."""
    kind, old = split_address(source)
    new_kind, new = split_address(destination)
    if kind != new_kind:
        raise MoveError(f"cannot move {source} to {destination}: only the key can change, not the kind")
    record = state.get(source)
    if record is None:
        raise MoveError(f"{source} is not in the state")
    if state.get(destination) is not None:
        raise MoveError(f"{destination} is already in the state")
    moved = state.with_resource(source, None).with_resource(destination, record)
    if kind == "project":
        moved = replace(moved, datasets={k: replace(r, project=new) if r.project == old else r
                                         for k, r in moved.datasets.items()})
    elif kind == "dataset":
        moved = replace(moved, models={k: replace(r, dataset=new) if r.dataset == old else r
                                       for k, r in moved.models.items()})
    parent_field = {"project": "project", "dataset": "dataset"}.get(kind)
    return replace(moved, journal=tuple(_moved_entry(e, source, destination, parent_field, old, new)
                                        for e in moved.journal))


def _moved_entry(entry: JournalEntry, source: str, destination: str, parent_field: str | None,
                 old: str, new: str) -> JournalEntry:
    address = destination if entry.address == source else entry.address
    detail = dict(entry.detail)
    if parent_field and detail.get(parent_field) == old:
        detail[parent_field] = new
    return replace(entry, address=address, detail=detail)
