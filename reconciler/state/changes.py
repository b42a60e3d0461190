"""State changes as small operations: what a store appends instead of rewriting the state.

`bria apply` writes the state after every API call. Rewriting the whole document each time
costs O(state) per call, so a run of N calls costs O(N²) (25 datasets × 200 images: ~10,000
writes of up to 1.5 MB). Instead, a store keeps a *snapshot* (the full document, exactly
the format of state.schema.json) plus the *changes* written since, one per write, and
folds the changes into a new snapshot now and then (`should_append`) and when a run ends.

A change is `{"serial": N, "lineage": L, "ops": [...]}`, ops in order:
    ["set", PATH, VALUE]     PATH a list of keys (and list indexes) into the document;
                             an index equal to the list's length appends
    ["del", PATH]            remove a key
    ["journal+", ENTRY]      append a journal entry
    ["journal-", ID]         remove the journal entry with that id
`diff` finds them by object identity first (state records are frozen: an unchanged record
is the same object, see `state/model.py`), so a write costs O(what changed) to encode and
store, plus identity checks over the resource maps and the changed dataset version's
images. `replay` applies a sequence of changes to a parsed snapshot; the result is then
checked against the schema like any state read.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from typing import Any, Iterable

from reconciler.state.model import (PENDING_CHANGES_FORMAT_VERSION, STATE_FORMAT_VERSION, DatasetRecord,
                                    DatasetVersion, State, migrate_v1)

Op = list[Any]
_KINDS = (("project", "projects"), ("dataset", "datasets"), ("model", "models"))
# The scalar fields of the state, a dataset and a dataset version are compared as their
# documents with the large parts emptied (`_shell`), so every field `to_dict` writes is
# carried, including ones added later: no list of field names here to fall out of date.
# tests/test_state_changes_fields.py fills every dataclass field and checks the round trip.
_STATE_BODY = ("resources", "journal", "serial")
# The dataclass fields those documents leave out (the same parts, as fields).
_STATE_FIELDS = frozenset({"projects", "datasets", "models", "journal", "serial"})
_VERSIONS = frozenset({"versions"})
_IMAGES = frozenset({"images"})

# Writes append changes while the changes total at most APPEND_RATIO × the snapshot (which
# keeps rewriting amortised O(1) per write), or FOLD_FLOOR_BYTES while the snapshot is small.
# Even a small snapshot is not rewritten per write: a rewrite is a temp file, two fsyncs, a
# link and two renames, an append one write and one fdatasync (at 100 ms latency a 200-image
# apply spent 0.2 s of CPU and 0.35 s of wall rewriting a state under 64 KB). A run's unlock
# folds its changes, so between runs a small state is still one document.
FOLD_FLOOR_BYTES = 256 * 1024
APPEND_RATIO = 2
# Test hook: every write of a run appends, however large the changes grow.
_APPEND_ALWAYS = os.environ.get("BRIA_TEST_STATE_APPEND_ALWAYS") == "1"


class ChangeError(ValueError):
    """A stored change does not apply to the document it follows (damage, not a crash)."""


def should_append(snapshot_bytes: int, changes_bytes: int) -> bool:
    """Whether the next write appends a change (else it writes a full snapshot)."""
    return _APPEND_ALWAYS or changes_bytes <= max(APPEND_RATIO * snapshot_bytes, FOLD_FLOOR_BYTES)


def encode_change(old: State, new: State) -> str:
    """The change from `old` to `new` as one line of compact JSON (no newline)."""
    body = {"serial": new.serial, "lineage": new.lineage, "ops": diff(old, new)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def diff(old: State, new: State) -> list[Op]:
    """Operations that turn `old.to_dict()` into `new.to_dict()` (serial aside)."""
    ops = [] if _same_scalars(old, new, _STATE_FIELDS) else _shell_ops([], _state_shell(old), _state_shell(new))
    for kind, attr in _KINDS:
        before, after = getattr(old, attr), getattr(new, attr)
        if before is after:
            continue
        for key in before.keys() - after.keys():
            ops.append(["del", ["resources", f"{kind}.{key}"]])
        for key, record in after.items():
            previous = before.get(key)
            if previous is record:
                continue
            path = ["resources", f"{kind}.{key}"]
            if isinstance(record, DatasetRecord) and isinstance(previous, DatasetRecord):
                ops.extend(_dataset_ops(path, previous, record))
            elif previous != record:
                ops.append(["set", path, record.to_dict()])
    if old.journal is not new.journal:
        ops.extend(_journal_ops(old, new))
    return ops


def _same_scalars(before: Any, after: Any, bodies: frozenset[str]) -> bool:
    """Whether two records agree on every dataclass field but `bodies` — then their shells
    are equal (`to_dict` is a function of the fields) and need not be built: the usual case
    of a write, which touches a resource map, a version's images or the journal only."""
    return all(getattr(before, f.name) is getattr(after, f.name) or getattr(before, f.name) == getattr(after, f.name)
               for f in fields(before) if f.name not in bodies)


def _state_shell(state: State) -> dict[str, Any]:
    """The state's document without resources, journal and serial (serial is the change's)."""
    document = replace(state, projects={}, datasets={}, models={}, journal=()).to_dict()
    return {key: value for key, value in document.items() if key not in _STATE_BODY}


def _shell_ops(path: list[Any], before: dict[str, Any], after: dict[str, Any]) -> list[Op]:
    """Sets for the keys whose value differs or is new, dels for the keys dropped."""
    ops: list[Op] = [["set", [*path, key], value] for key, value in after.items()
                     if key not in before or before[key] != value]
    ops.extend(["del", [*path, key]] for key in before.keys() - after.keys())
    return ops


def _dataset_ops(path: list[Any], before: DatasetRecord, after: DatasetRecord) -> list[Op]:
    ops = [] if _same_scalars(before, after, _VERSIONS) else _shell_ops(
        path, _without(replace(before, versions=()).to_dict(), "versions"),
        _without(replace(after, versions=()).to_dict(), "versions"))
    if len(after.versions) < len(before.versions):
        return ops + [["set", [*path, "versions"], [v.to_dict() for v in after.versions]]]
    for index, version in enumerate(after.versions):
        if index >= len(before.versions):
            ops.append(["set", [*path, "versions", index], version.to_dict()])
        elif before.versions[index] is not version:
            ops.extend(_version_ops([*path, "versions", index], before.versions[index], version))
    return ops


def _version_ops(path: list[Any], before: DatasetVersion, after: DatasetVersion) -> list[Op]:
    ops = [] if _same_scalars(before, after, _IMAGES) else _shell_ops(
        path, _without(replace(before, images={}).to_dict(), "images"),
        _without(replace(after, images={}).to_dict(), "images"))
    old_images, new_images = before.images, after.images
    if old_images is new_images:
        return ops
    for sha in old_images.keys() - new_images.keys():
        ops.append(["del", [*path, "images", sha]])
    for sha, record in new_images.items():
        previous = old_images.get(sha)
        if previous is not record and previous != record:
            ops.append(["set", [*path, "images", sha], record.to_dict()])
    return ops


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    document.pop(key, None)
    return document


def _journal_ops(old: State, new: State) -> list[Op]:
    """Removals by id and appends, when the surviving entries kept their order; else the
    whole journal (never happens in a run: entries are only appended and removed)."""
    new_ids = {entry.id for entry in new.journal}
    kept = [entry for entry in old.journal if entry.id in new_ids]
    if tuple(kept) != new.journal[:len(kept)]:
        return [["set", ["journal"], [entry.to_dict() for entry in new.journal]]]
    ops: list[Op] = [["journal-", entry.id] for entry in old.journal if entry.id not in new_ids]
    ops.extend(["journal+", entry.to_dict()] for entry in new.journal[len(kept):])
    return ops


def replay(document: dict[str, Any], changes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Apply `changes` (parsed, in serial order) to a parsed snapshot, in place.

    Changes at or below the snapshot's serial are skipped (left over from a fold that
    stopped before it removed them); the others must follow one another (serial + 1) in
    the snapshot's lineage. Raises ChangeError otherwise, or when an op does not apply.
    """
    if document.get("format_version") == PENDING_CHANGES_FORMAT_VERSION:
        document["format_version"] = STATE_FORMAT_VERSION
    if document.get("format_version") == 1:
        # Changes are diffs of the current format: a format-1 snapshot is migrated first, or
        # migrating it after would reset the fields the changes set (visual_schema, …).
        document = migrate_v1(document)
    serial = int(document.get("serial", 0))
    journal = {_entry_id(e): e for e in document.get("journal") or ()}
    for change in changes:
        if change["serial"] <= serial:
            continue
        if change["serial"] != serial + 1:
            raise ChangeError(f"change {change['serial']} does not follow serial {serial}")
        if change["lineage"] != document.get("lineage") and not _sets_lineage(change):
            raise ChangeError(f"change {change['serial']} belongs to lineage {change['lineage']}")
        for op in change["ops"]:
            _apply(document, journal, op, change["serial"])
        serial = document["serial"] = change["serial"]
    document["journal"] = list(journal.values())
    return document


def _sets_lineage(change: dict[str, Any]) -> bool:
    return any(op[:2] == ["set", ["lineage"]] for op in change["ops"])


def _entry_id(entry: Any) -> Any:
    return entry.get("id") if isinstance(entry, dict) else id(entry)


def _apply(document: dict[str, Any], journal: dict[Any, Any], op: Op, serial: int) -> None:
    try:
        kind = op[0]
        if kind == "journal+":
            journal[_entry_id(op[1])] = op[1]
        elif kind == "journal-":
            del journal[op[1]]
        elif kind == "set" and op[1] == ["journal"]:
            journal.clear()
            journal.update((_entry_id(e), e) for e in op[2])
        elif kind in ("set", "del"):
            container = document
            for key in op[1][:-1]:
                container = container[key]
            last = op[1][-1]
            if kind == "del":
                del container[last]
            elif isinstance(container, list) and last == len(container):
                container.append(op[2])
            else:
                container[last] = op[2]
        else:
            raise ChangeError(f"change {serial}: unknown operation {kind!r}")
    except (KeyError, IndexError, TypeError) as exc:
        raise ChangeError(f"change {serial}: operation {op[:2]!r} does not apply ({exc!r})") from exc
