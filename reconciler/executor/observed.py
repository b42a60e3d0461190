"""Observed facts from a live view, absorbed into state (`bria refresh`, apply, wait).

Pure: (State, LiveView, time) → State. Only what the API decides is absorbed — model
statuses and generation prefixes, for current and superseded models — never what the user
decides (names, descriptions, captions): those stay as bria applied them, so a change made
outside bria still shows as drift in the next plan, which puts it back. A model missing from
the live view is left alone too: the plan reports and handles it (forget or recreate).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from reconciler.model import LiveView
from reconciler.state.model import ModelRecord, State, SupersededModel


def absorb_model_statuses(state: State, live: LiveView, now_iso: str) -> tuple[State, list[str]]:
    """The state with every listed model's status and generation prefix as the API shows
    them, and `refreshed_at` = now; plus one line per fact that changed, for people."""
    changed: list[str] = []
    models = dict(state.models)
    for key, record in state.models.items():
        models[key] = _absorb_record(f"model.{key}", record, live.models, changed)
    return replace(state, models=models, refreshed_at=now_iso), changed


def _absorb_record(addr: str, record: ModelRecord, live: Mapping[int, Mapping[str, Any]],
                   changed: list[str]) -> ModelRecord:
    superseded = tuple(_absorb_superseded(addr, s, live.get(s.remote_id), changed) for s in record.superseded)
    remote = live.get(record.remote_id)
    status, prefix = _observed(remote, record.status, record.generation_prefix)
    if (status, prefix) != (record.status, record.generation_prefix):
        changed.append(_line(addr, record.remote_id, record.status, status))
    if superseded == record.superseded and (status, prefix) == (record.status, record.generation_prefix):
        return record
    return replace(record, status=status, generation_prefix=prefix, superseded=superseded)


def _absorb_superseded(addr: str, old: SupersededModel, remote: Mapping[str, Any] | None,
                       changed: list[str]) -> SupersededModel:
    status, prefix = _observed(remote, old.status, old.generation_prefix)
    if (status, prefix) == (old.status, old.generation_prefix):
        return old
    changed.append(_line(f"{addr} (superseded)", old.remote_id, old.status, status))
    return replace(old, status=status, generation_prefix=prefix)


def _observed(remote: Mapping[str, Any] | None, status: str, prefix: str | None) -> tuple[str, str | None]:
    if remote is None:
        return status, prefix
    return str(remote.get("status") or status), (remote.get("generation_prefix") or prefix)


def _line(addr: str, remote_id: int, before: str, after: str) -> str:
    if before == after:
        return f"{addr}: model {remote_id} generation prefix updated"
    return f"{addr}: model {remote_id} {before} → {after}"
