"""Every field of every state record survives an appended change (state/changes.py): a
field the change encoding missed would be silently dropped between a run's appended
changes and the fold. Two fully filled variants of each record type differ in every
dataclass field (checked, so a field added later fails here until it is filled); each
field is changed alone, encoded, replayed and compared with the direct write."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import pytest

from reconciler.state import changes
from reconciler.state.model import (DatasetRecord, DatasetVersion, ImageRecord, JournalEntry, ModelRecord,
                                    ProjectRecord, State, SupersededModel)

# Fields a change never carries as such: the serial is the change's own, format_version is
# the current one for every State (older formats are migrated on read), and the containers
# are varied through the records they hold.
_NOT_VARIED = {State: {"serial", "format_version", "projects", "datasets", "models", "journal"},
               DatasetRecord: {"versions"}, DatasetVersion: {"images"}, ModelRecord: {"superseded"}}


def _image(variant: int) -> ImageRecord:
    return ImageRecord(100 + variant, f"img-{variant}.png", f"caption {variant}",
                       ("manual", "automatic")[variant])


def _version(variant: int) -> DatasetVersion:
    return DatasetVersion(10 + variant, f"v{variant}", ("draft", "completed")[variant], f"prefix {variant}, ",
                          {f"{variant + 1:064x}": _image(variant)}, f'{{"schema": {variant}}}')


def _superseded(variant: int) -> SupersededModel:
    return SupersededModel(30 + variant, 40 + variant, f"tv{variant}", f"mode{variant}",
                           ("Completed", "Failed")[variant], f"reason {variant}",
                           f"superseded gen {variant}")


def _model(variant: int) -> ModelRecord:
    return ModelRecord(50 + variant, f"ds{variant}", 60 + variant, f"model {variant}", f"about {variant}",
                       f"tv{variant}", f"mode{variant}", {"steps": variant + 1}, ("InProgress", "Completed")[variant],
                       f"gen {variant}", (_superseded(variant),))


def _entry(variant: int) -> JournalEntry:
    return JournalEntry(f"entry-{variant}", ("create_model", "upload_image")[variant], f"model.m{variant}",
                        f"name {variant}", 70 + variant, {"sha256": f"{variant:064x}"}, f"2026-01-0{variant + 1}")


_MAKERS: dict[type, Callable[[int], Any]] = {
    ImageRecord: _image, DatasetVersion: _version, SupersededModel: _superseded, ModelRecord: _model,
    JournalEntry: _entry,
    ProjectRecord: lambda v: ProjectRecord(80 + v, {"name": f"project {v}", "ip_type": f"type {v}"}),
    DatasetRecord: lambda v: DatasetRecord(f"p{v}", (_version(v),), f"pinned {v}, ", f'{{"pinned": {v}}}'),
}


def _state(variant: int) -> State:
    return State(lineage=f"lineage-{variant}", serial=5, projects={"p": _MAKERS[ProjectRecord](variant)},
                 datasets={"d": _MAKERS[DatasetRecord](variant)}, models={"m": _model(variant)},
                 journal=(_entry(variant),), endpoint=f"http://endpoint-{variant}.example",
                 refreshed_at=f"2026-02-0{variant + 1}T00:00:00Z")


def _field_changes() -> list[tuple[str, State, State]]:
    """(label, before, after) for every varied field of every record type, one at a time,
    with the record at its place in a full state."""
    base = _state(0)
    places: dict[type, Callable[[Any], State]] = {
        State: lambda s: s,
        ProjectRecord: lambda r: base.with_resource("project.p", r),
        DatasetRecord: lambda r: base.with_resource("dataset.d", r),
        DatasetVersion: lambda r: base.with_resource("dataset.d", base.datasets["d"].with_current(r)),
        ImageRecord: lambda r: base.with_resource("dataset.d", base.datasets["d"].with_current(
            dataclasses.replace(base.datasets["d"].current, images={f"{1:064x}": r}))),
        ModelRecord: lambda r: base.with_resource("model.m", r),
        SupersededModel: lambda r: base.with_resource("model.m", dataclasses.replace(base.models["m"], superseded=(r,))),
        JournalEntry: lambda r: dataclasses.replace(base, journal=(r,)),
    }
    makers = {**_MAKERS, State: _state}
    cases = []
    for cls, place in places.items():
        zero, one = makers[cls](0), makers[cls](1)
        for field in dataclasses.fields(cls):
            if field.name in _NOT_VARIED.get(cls, set()):
                continue
            before, after = getattr(zero, field.name), getattr(one, field.name)
            assert before != after, f"{cls.__name__}.{field.name}: fill it differently in the two variants"
            default = (field.default if field.default is not dataclasses.MISSING
                       else field.default_factory() if field.default_factory is not dataclasses.MISSING else object())
            assert after != default, f"{cls.__name__}.{field.name}: fill it with a non-default value"
            cases.append((f"{cls.__name__}.{field.name}", place(zero), place(dataclasses.replace(zero, **{field.name: after}))))
    return cases


def _replayed(before: State, after: State) -> dict[str, Any]:
    after = dataclasses.replace(after, serial=before.serial + 1)
    change = json.loads(changes.encode_change(before, after))
    return changes.replay(json.loads(json.dumps(before.to_dict())), [change])


@pytest.mark.parametrize("label,before,after", _field_changes(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_change_of_any_one_field_replays_to_the_direct_write(label: str, before: State, after: State) -> None:
    assert before != after
    expected = dataclasses.replace(after, serial=before.serial + 1)
    document = _replayed(before, after)
    assert document == json.loads(json.dumps(expected.to_dict())), label
    assert State.from_dict(document) == expected, label


def test_every_field_set_or_cleared_at_once_replays_both_ways() -> None:
    full, other, empty = _state(1), _state(0), State.empty("lineage-0")
    for before, after in ((empty, full), (other, full), (full, other),
                          (full, dataclasses.replace(full, endpoint=None)), (full, empty)):
        expected = dataclasses.replace(after, serial=before.serial + 1)
        assert State.from_dict(_replayed(before, after)) == expected


def test_a_format_1_snapshot_keeps_the_v2_fields_its_changes_set() -> None:
    """The snapshot is migrated before the changes apply, not after (which would reset them)."""
    before = State(lineage="l", serial=3, datasets={"d": dataclasses.replace(_MAKERS[DatasetRecord](0),
                                                                              pinned_schema=None)})
    before = before.with_resource("dataset.d", before.datasets["d"].with_current(
        dataclasses.replace(before.datasets["d"].current, visual_schema=None)))
    v1 = before.to_dict()
    v1["format_version"] = 1
    for record in v1["resources"].values():
        record.pop("pinned_schema")
        for version in record["versions"]:
            version.pop("visual_schema")
    after = before.with_resource("dataset.d", _MAKERS[DatasetRecord](1))
    change = json.loads(changes.encode_change(before, dataclasses.replace(after, serial=4)))
    assert State.from_dict(changes.replay(v1, [change])) == dataclasses.replace(after, serial=4)


def test_a_fully_filled_state_round_trips_through_a_stores_appended_changes(state_store_factory, monkeypatch) -> None:
    """The same through a store (both backends): every write of the run appends, a reader
    replays, unlock folds; all three equal the state written."""
    monkeypatch.setattr(changes, "_APPEND_ALWAYS", True)
    store = state_store_factory()
    store.lock("apply")
    store.read()
    state = store.write(_state(0))
    for label, _, after in _field_changes():
        state = store.write(dataclasses.replace(after, serial=state.serial))
        assert state_store_factory().read() == state, label
    state = store.write(dataclasses.replace(_state(1), serial=state.serial))
    assert state_store_factory().read() == state
    store.unlock()
    assert state_store_factory().read() == state
