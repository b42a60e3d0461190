"""`ModelStatus`: a model's training status as the API reports it, and what bria makes of it.

Values are the API's words; state stores them as text (the state format is unchanged), so a
status compares equal to its text. The API may report a status this bria does not know
(a newer API, a soft-deleted model): `ModelStatus.parse` gives `UNKNOWN` for it, which none of
the groups below contains — it is never "final", "trained" or "nothing to do"; callers keep
the API's text where they record it.
"""

from __future__ import annotations

import enum


class ModelStatus(enum.StrEnum):
    CREATED = "Created"          # created, never trained
    IN_PROGRESS = "InProgress"   # training
    COMPLETED = "Completed"      # trained
    FAILED = "Failed"
    STOPPING = "Stopping"        # stop requested; the API moves it on to Stopped
    STOPPED = "Stopped"
    UNKNOWN = "(unknown)"        # anything else the API says

    @classmethod
    def parse(cls, value: object) -> "ModelStatus":
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN


# Every status bria knows (its API text); anything else is UNKNOWN.
KNOWN = frozenset(s.value for s in ModelStatus if s is not ModelStatus.UNKNOWN)

# Gen A documents model DELETE as "changes status to Deleted": such a model may stay listed.
# It is not a training status (so it parses as UNKNOWN) but it is not unknown either: the
# model is gone. Refresh leaves it out of the live view (`is_deleted`), so it is never alive
# nor adoptable.
DELETED = "Deleted"


def is_known(status: object) -> bool:
    """Whether bria knows what this model status means (and so may act on the model)."""
    return ModelStatus.parse(status) is not ModelStatus.UNKNOWN


def is_deleted(status: object) -> bool:
    """A soft-deleted model (`Deleted`, in any letter case): gone, though a list may show it."""
    return str(status if status is not None else "").strip().lower() == DELETED.lower()
# A model that holds (or is getting) a trained model: deleting it destroys something valuable.
TRAINED = (ModelStatus.COMPLETED, ModelStatus.IN_PROGRESS)
# Training runs or is being stopped: the API refuses to delete it, its dataset or its project.
RUNNING = (ModelStatus.IN_PROGRESS, ModelStatus.STOPPING)
# Training is over, one way or another (`--wait` stops following it).
FINAL = (ModelStatus.COMPLETED, ModelStatus.FAILED, ModelStatus.STOPPED)
# Training ended without producing a model.
FAILED_OR_STOPPED = (ModelStatus.FAILED, ModelStatus.STOPPED)
