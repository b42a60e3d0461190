"""Statuses computed from stored timestamps at read time.

Training and caption regeneration are not background jobs: the emulator stores when they
started and when they end, and derives the status from the clock whenever it is read. So a
model "trains" while no emulator process runs, and a restart changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping, Any

CREATED, IN_PROGRESS, COMPLETED, FAILED, STOPPING, STOPPED = (
    "Created", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
# Gen A documents DELETE model as "changes status to Deleted" (soft_delete_models knob).
DELETED = "Deleted"
BUSY_MODEL_STATUSES = frozenset({IN_PROGRESS, STOPPING})


def model_status(model: Mapping[str, Any], now: float) -> str:
    if model["deleted_at"] is not None:
        return DELETED
    if model["stopped_at"] is not None:
        return STOPPED if now >= model["stopped_at"] else STOPPING
    if model["training_ends_at"] is not None:
        if now < model["training_ends_at"]:
            return IN_PROGRESS
        return FAILED if model["will_fail"] else COMPLETED
    return CREATED


def captions_update_status(dataset: Mapping[str, Any], now: float) -> str:
    due = dataset["captions_due_at"]
    if due is not None and now < due:
        return "in_progress"
    if due is not None:
        return "completed"
    return dataset["captions_status"]


def iso(timestamp: float) -> str:
    """ISO-8601 UTC with a `Z`, e.g. `2025-01-31T12:00:00.123456Z`."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
