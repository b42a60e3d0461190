"""Why a change is planned: the `Reason` enum and its wording, in one table.

The value is what a plan's JSON carries (`changes[].reason`) and what state records as a
superseded model's reason; `words()` is how every view (human, Markdown, the CLI) says it.
Reasons are for people: the executor never decides anything from a change's reason (what
it must know travels in typed step arguments, see stepargs.py).
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    CREATE = "create"
    NO_OP = "no-op"
    UPDATE_IN_PLACE = "update_in_place"
    REVERT_DRIFT = "revert_drift"
    # recreated: the old object is gone (or goes with its project)
    RECREATE_BECAUSE_PROJECT_REPLACED = "recreate_because_project_replaced"
    RECREATE_BECAUSE_PROJECT_CHANGED = "recreate_because_project_changed"
    RECREATE_BECAUSE_FAMILY_CHANGED = "recreate_because_family_changed"   # legacy <-> FIBO dataset
    RECREATE_BECAUSE_DELETED_OUTSIDE_BRIA = "recreate_because_deleted_outside_bria"
    RECREATE_AND_RETRAIN_BECAUSE_DELETED_OUTSIDE_BRIA = "recreate_and_retrain_because_deleted_outside_bria"
    # replaced: a field the API cannot change in place
    REPLACE_BECAUSE_IP_TYPE_CHANGED = "replace_because_ip_type_changed"
    REPLACE_BECAUSE_IP_MEDIUM_CHANGED = "replace_because_ip_medium_changed"
    REPLACE_BECAUSE_DATASET_CHANGED = "replace_because_dataset_changed"
    REPLACE_BECAUSE_TRAINING_VERSION_CHANGED = "replace_because_training_version_changed"
    REPLACE_BECAUSE_TRAINING_MODE_CHANGED = "replace_because_training_mode_changed"
    REPLACE_BECAUSE_TRAINING_PARAMETERS_CHANGED = "replace_because_training_parameters_changed"
    REPLACE_BECAUSE_TRAINING_FAILED = "replace_because_training_failed"
    REPLACE_BECAUSE_TRAINING_STOPPED = "replace_because_training_stopped"
    # datasets: a completed version is frozen
    CLONE_BECAUSE_DATASET_COMPLETED = "clone_because_dataset_completed"
    CLONE_BECAUSE_STRAY_IMAGES = "clone_because_stray_images"
    # training
    START_TRAINING_BECAUSE_TRAIN_TRUE = "start_training_because_train_true"
    STOP_BECAUSE_TRAIN_FALSE = "stop_because_train_false"
    # removal
    FORGET_BECAUSE_DELETED_OUTSIDE_BRIA = "forget_because_deleted_outside_bria"
    DELETE_BECAUSE_REMOVED_FROM_MANIFEST = "delete_because_removed_from_manifest"
    DELETE_BECAUSE_BRIA_DESTROY = "delete_because_bria_destroy"
    # manifest blocks (moved / import / removed) and bria prune
    MOVE_BECAUSE_MOVED_BLOCK = "move_because_moved_block"
    IMPORT_BECAUSE_IMPORT_BLOCK = "import_because_import_block"
    FORGET_BECAUSE_REMOVED_BLOCK = "forget_because_removed_block"
    DELETE_BECAUSE_REMOVED_BLOCK = "delete_because_removed_block"
    DELETE_BECAUSE_SUPERSEDED_AND_PRUNED = "delete_because_superseded_and_pruned"

    def words(self) -> str | None:
        """The reason in words, or None when it only repeats what the change's verb says."""
        return WORDING[self]


# THE wording table: every view shows a reason through it. None = not shown (the symbol
# and verb already say it).
WORDING: dict[Reason, str | None] = {
    Reason.CREATE: None,
    Reason.NO_OP: None,
    Reason.UPDATE_IN_PLACE: None,
    Reason.REVERT_DRIFT: "revert drift",
    Reason.RECREATE_BECAUSE_PROJECT_REPLACED: "recreate because project replaced",
    Reason.RECREATE_BECAUSE_PROJECT_CHANGED: "recreate because project changed",
    Reason.RECREATE_BECAUSE_FAMILY_CHANGED: "recreate because family changed",
    Reason.RECREATE_BECAUSE_DELETED_OUTSIDE_BRIA: "recreate because deleted outside bria",
    Reason.RECREATE_AND_RETRAIN_BECAUSE_DELETED_OUTSIDE_BRIA: "recreate and retrain because deleted outside bria",
    Reason.REPLACE_BECAUSE_IP_TYPE_CHANGED: "replace because ip type changed",
    Reason.REPLACE_BECAUSE_IP_MEDIUM_CHANGED: "replace because ip medium changed",
    Reason.REPLACE_BECAUSE_DATASET_CHANGED: "replace because dataset changed",
    Reason.REPLACE_BECAUSE_TRAINING_VERSION_CHANGED: "replace because training version changed",
    Reason.REPLACE_BECAUSE_TRAINING_MODE_CHANGED: "replace because training mode changed",
    Reason.REPLACE_BECAUSE_TRAINING_PARAMETERS_CHANGED: "replace because training parameters changed",
    Reason.REPLACE_BECAUSE_TRAINING_FAILED: "replace because training failed",
    Reason.REPLACE_BECAUSE_TRAINING_STOPPED: "replace because training stopped",
    Reason.CLONE_BECAUSE_DATASET_COMPLETED: "the dataset is completed (frozen), so the change needs a new version",
    Reason.CLONE_BECAUSE_STRAY_IMAGES: "images added outside bria are left out of a new version",
    Reason.START_TRAINING_BECAUSE_TRAIN_TRUE: "train: true in the manifest",
    Reason.STOP_BECAUSE_TRAIN_FALSE: "train: false in the manifest",
    Reason.FORGET_BECAUSE_DELETED_OUTSIDE_BRIA: "forget because deleted outside bria",
    Reason.DELETE_BECAUSE_REMOVED_FROM_MANIFEST: "delete because removed from manifest",
    Reason.DELETE_BECAUSE_BRIA_DESTROY: "bria destroy",
    Reason.MOVE_BECAUSE_MOVED_BLOCK: "a moved block in the manifest",
    Reason.IMPORT_BECAUSE_IMPORT_BLOCK: "an import block in the manifest",
    Reason.FORGET_BECAUSE_REMOVED_BLOCK: "a removed block with destroy: false",
    Reason.DELETE_BECAUSE_REMOVED_BLOCK: "a removed block with destroy: true (the reviewed permission)",
    Reason.DELETE_BECAUSE_SUPERSEDED_AND_PRUNED: "bria prune: its superseded models are deleted; the current one stays",
}


def words_of(value: str) -> str | None:
    """The wording of a reason as a plan's JSON carries it (for the views, which read JSON).
    A value this bria does not know is shown as it is."""
    try:
        return Reason(value).words()
    except ValueError:
        return value or None
