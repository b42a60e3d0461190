"""Which remote object a leftover journal entry may adopt — a pure function of what is listed.

The API has no idempotency key, so after a create whose outcome is unknown the only way to
find its result is to look for an object with the name and parent that were sent. That
alone is not enough: another state on the same account (staging and prod share names and a
token), a console user, or an earlier run may already have made one. So every create entry
records, when it is written, what the account held (`detail`):

- `seen_max_id`: the highest id of that kind seen so far. The API hands out increasing ids
  (the emulator's SQLite rowids; Bria's ids are integer sequences too), so the object this
  call creates has a larger id. Anything at or below it existed before the call.
- `preexisting`: ids of same-name, same-parent objects present at that moment (a belt to
  the watermark's braces: they are never adopted even if ids were not monotonic).

An object is a candidate when its name and parent match, its id is above the watermark, it
is not a pre-existing one, no record of this state holds it, it is not soft-deleted
(`Deleted` models) and — for a clone — it is not the source. Exactly one candidate is
adopted; several mean bria cannot tell which is its own: it adopts none, keeps the entry and
reports the ids. Entries written by an older bria carry no watermark: they are matched the
same way and so adopt only a lone candidate.

Uploads live in this state's own dataset and carry a content hash in their image name, so
their match is the first unrecorded image of that name (two of them are the same content;
the planner removes the extra one as a stray).

The executor calls `match` with fresh lists; the planner calls it with the refresh's live
view to say in the plan what `apply` will do with each leftover entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from reconciler.identity import id_order
from reconciler.model import Op, split_address
from reconciler.state.model import JournalEntry, State
from reconciler.status import is_deleted

Remote = Mapping[str, Any]

CREATE_KIND = {Op.CREATE_PROJECT.value: "project", Op.CREATE_DATASET.value: "dataset",
               Op.CLONE_DATASET.value: "dataset", Op.CREATE_MODEL.value: "model"}


@dataclass(frozen=True)
class Match:
    """The outcome of a lookup: `found` (exactly one candidate), or `ambiguous` ids, or neither."""

    found: Remote | None = None
    ambiguous: tuple[int, ...] = ()

    @property
    def none(self) -> bool:
        return self.found is None and not self.ambiguous


def name_of(kind: str, remote: Remote) -> Any:
    return remote.get("project_name", remote.get("name")) if kind == "project" else remote.get("name")


def parent_of(kind: str, remote: Remote) -> Any:
    if kind == "dataset":
        return remote.get("project_id")
    if kind == "model":
        return remote.get("dataset_id")
    return None


def look_alikes(kind: str, name: str, parent_id: int | None, listed: Iterable[Remote]) -> list[Remote]:
    """Live objects of `kind` with this name and parent (soft-deleted models excluded)."""
    return [o for o in listed if name_of(kind, o) == name and _same_parent(parent_of(kind, o), parent_id)
            and not is_deleted(o.get("status"))]


def _same_parent(a: Any, b: Any) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and int(a) == int(b))


def watermark(kind: str, name: str, parent_id: int | None, listed: Iterable[Remote]) -> dict[str, Any]:
    """The `detail` fields a create entry records about the account before its call."""
    listed = list(listed)
    return {"seen_max_id": max((int(o["id"]) for o in listed), default=0),
            "preexisting": sorted(int(o["id"]) for o in look_alikes(kind, name, parent_id, listed))}


def recorded_ids(state: State) -> dict[str, set[int]]:
    """Every remote id the state knows, by kind — adoption never takes one of these."""
    datasets = {v.remote_id for r in state.datasets.values() for v in r.versions}
    models = {m.remote_id for m in state.models.values()} | {
        s.remote_id for m in state.models.values() for s in m.superseded}
    return {"project": {p.remote_id for p in state.projects.values()}, "dataset": datasets, "model": models}


def match(entry: JournalEntry, listed: Iterable[Remote], state: State) -> Match:
    """What a create/clone/upload entry may adopt among `listed` (the parent's children, or
    every object of the kind)."""
    if entry.op == Op.UPLOAD_IMAGE.value:
        return _match_upload(entry, listed, state)
    kind = CREATE_KIND[entry.op]
    detail = entry.detail
    floor = int(detail.get("seen_max_id") or 0)
    excluded = set(recorded_ids(state)[kind]) | {int(i) for i in detail.get("preexisting") or ()}
    if detail.get("source_remote_id") is not None:
        excluded.add(int(detail["source_remote_id"]))
    candidates = sorted((o for o in look_alikes(kind, entry.name, entry.parent_id, listed)
                         if int(o["id"]) > floor and int(o["id"]) not in excluded), key=lambda o: int(o["id"]))
    if len(candidates) == 1:
        return Match(found=candidates[0])
    return Match(ambiguous=tuple(int(o["id"]) for o in candidates))


def _match_upload(entry: JournalEntry, listed: Iterable[Remote], state: State) -> Match:
    _, key = split_address(entry.address)
    record = state.datasets.get(key)
    version = next((v for v in record.versions if v.remote_id == entry.parent_id), None) if record else None
    recorded = {r.remote_id for r in version.images.values()} if version else set()
    # entry.name is the upload's `identity.image_name` (content hash prefix + file name).
    candidates = sorted((i for i in listed if i.get("image_name") == entry.name and i["id"] not in recorded),
                        key=lambda i: id_order(i.get("id")))
    return Match(found=candidates[0]) if candidates else Match()


def leftover_notes(state: State, projects: Mapping[int, Remote], datasets: Mapping[int, Remote],
                   models: Mapping[int, Remote]) -> list[str]:
    """For the plan: what `apply` will find for each leftover create entry, from the live view."""
    listed = {"project": projects.values(), "dataset": datasets.values(), "model": models.values()}
    notes = []
    for entry in state.journal:
        kind = CREATE_KIND.get(entry.op)
        if kind is None:
            continue
        found = match(entry, listed[kind], state)
        if found.ambiguous:
            notes.append(ambiguity_message(entry, found.ambiguous))
        elif found.found is not None:
            notes.append(f"{entry.address}: the interrupted {entry.op.replace('_', ' ')} {entry.name!r} "
                         f"created {kind} {found.found['id']}; apply adopts it")
    return notes


def ambiguity_message(entry: JournalEntry, ids: Iterable[int]) -> str:
    kind = CREATE_KIND.get(entry.op, "object")
    listed = ", ".join(str(i) for i in ids)
    return (f"{entry.address}: the outcome of an interrupted {entry.op.replace('_', ' ')} {entry.name!r} is "
            f"ambiguous: {kind}s {listed} all match and appeared after it was sent, so bria adopts none. "
            f"Pick the right one with `bria import {entry.address} ID` (this drops the pending entry) and "
            f"delete the others in the console")
