"""Sample plans for the renderer tests, built from the real model types (no planner needed).

Each `sample_plan_*` function returns a `reconciler.model.Plan`; `SAMPLE_PLANS` names the
representative ones so tests can run every renderer over all of them.
"""

from __future__ import annotations

from reconciler.model import Action, Change, Drift, ImageChanges, Op, Plan, Step

_LINEAGE = "3f1c2a9e-6d7b-4c1e-9a55-0b8e2f4d7c11"
_DIGEST = "sha256:" + "ab" * 32


def _sha(i: int, salt: str = "") -> str:
    return f"{(i * 2654435761 + len(salt) * 97) & 0xFFFFFFFF:08x}" * 8


def _plan(changes, **kw) -> Plan:
    kw.setdefault("state_lineage", _LINEAGE)
    kw.setdefault("state_serial", 7)
    return Plan(changes=tuple(changes), manifest_digest=_DIGEST, manifest_path="bria.yaml", **kw)


def _project_create(key: str = "luna", name: str = "StoryCharacter_Luna") -> Change:
    fields = {"name": name, "ip_type": "defined_character", "ip_medium": "illustration",
              "ip_name": "Luna", "ip_description": "girl with blue hair"}
    return Change(f"project.{key}", (Action.CREATE,), "create",
                  (Step(Op.CREATE_PROJECT, {"fields": fields}),), after=fields)


def _dataset_create(key: str, project: str, n_images: int, name: str | None = None,
                    captions: int = 3) -> Change:
    paths = [f"images/{key}/img_{i:03d}.png" for i in range(n_images)]
    shas = [_sha(i, key) for i in range(n_images)]
    steps = [Step(Op.CREATE_DATASET, {"name": name or f"{key} training set"}),
             Step(Op.GENERATE_PREFIX, {"shas": shas[:6]}),
             Step(Op.SET_CAPTION_PREFIX, {"prefix": None})]
    steps += [Step(Op.UPLOAD_IMAGE, {"sha256": s, "rel_path": p, "image_name": f"{s[:16]}-{p.rsplit('/', 1)[1]}",
                                     "increase_resolution": True}) for s, p in zip(shas, paths)]
    steps += [Step(Op.SET_CAPTION, {"sha256": s, "caption": "waving"}) for s in shas[:captions]]
    steps.append(Step(Op.COMPLETE_DATASET, {}))
    after = {"name": name or f"{key} training set", "caption_prefix": "auto", "images": n_images,
             "complete": True}
    return Change(f"dataset.{key}", (Action.CREATE,), "create", tuple(steps), after=after,
                  depends_on=(f"project.{project}",),
                  images=ImageChanges(upload=tuple(paths), caption=tuple(paths[:captions])))


def _model_create(key: str, dataset: str, name: str | None = None) -> Change:
    fields = {"name": name or f"{key} model", "training_version": "max",
              "training_mode": "fully_automated", "description": None}
    return Change(f"model.{key}", (Action.CREATE, Action.TRAIN), "create",
                  (Step(Op.CREATE_MODEL, fields), Step(Op.START_TRAINING, {"parameters": {}})),
                  after={**fields, "train": True}, depends_on=(f"dataset.{dataset}",))


def sample_plan_empty() -> Plan:
    return _plan([])


def sample_plan_full_create() -> Plan:
    """A fresh manifest: project, a 200-image dataset (folded in views), a trained model."""
    return _plan([_project_create(), _dataset_create("luna_v1", "luna", 200),
                  _model_create("luna_max", "luna_v1", "Luna max")])


def sample_plan_clone() -> Plan:
    """A completed dataset gets a new version (images added/removed, a caption changed);
    the model trained on it is replaced by a new one while the old one is kept."""
    new = ["images/luna/new_a.png", "images/luna/new_b.png"]
    steps = [Step(Op.CLONE_DATASET, {"source_remote_id": 12, "name": "Luna training set"}),
             Step(Op.DELETE_IMAGE, {"sha256": _sha(90)}),
             *(Step(Op.UPLOAD_IMAGE, {"sha256": _sha(91 + i), "rel_path": p,
                                      "image_name": f"{_sha(91 + i)[:16]}-{p[12:]}",
                                      "increase_resolution": True}) for i, p in enumerate(new)),
             Step(Op.SET_CAPTION, {"sha256": _sha(3), "caption": "waving at the viewer"}),
             Step(Op.COMPLETE_DATASET, {})]
    dataset = Change(
        "dataset.luna_v1", (Action.CLONE,), "clone_because_dataset_completed", tuple(steps),
        before={"remote_id": 12, "name": "Luna training set", "status": "completed", "images": 20},
        after={"name": "Luna training set", "status": "completed", "images": 21},
        images=ImageChanges(upload=tuple(new), delete=("images/luna/old.png",),
                            caption=("images/luna/wave.png",)))
    model = Change(
        "model.luna_max", (Action.CREATE, Action.TRAIN), "replace_because_dataset_changed",
        (Step(Op.SUPERSEDE_MODEL, {}),
         Step(Op.CREATE_MODEL, {"name": "Luna max", "description": None,
                                "training_version": "max", "training_mode": "fully_automated"}),
         Step(Op.START_TRAINING, {"parameters": {}})),
        before={"remote_id": 7, "name": "Luna max", "dataset_version": 12, "status": "Completed"},
        after={"name": "Luna max", "dataset_version": "(new version)", "status": "InProgress"},
        depends_on=("dataset.luna_v1",))
    return _plan([dataset, model])


def sample_plan_refused() -> Plan:
    """A trained model removed from the manifest, and a project whose ip_type changed:
    both destroy something valuable and were not allowed."""
    delete_model = Change(
        "model.old_max", (Action.DELETE,), "delete_because_removed_from_manifest",
        (Step(Op.DELETE_MODEL, {"remote_id": 9}),),
        before={"remote_id": 9, "name": "Old max", "status": "Completed"},
        protected=True, refused=True)
    replace_project = Change(
        "project.luna", (Action.DELETE, Action.CREATE), "replace_because_ip_type_changed",
        (Step(Op.DELETE_PROJECT, {"remote_id": 3}),
         Step(Op.CREATE_PROJECT, {"fields": {"name": "Luna", "ip_type": "object"}})),
        before={"name": "Luna", "ip_type": "defined_character"},
        after={"name": "Luna", "ip_type": "object"}, protected=True, refused=True)
    allowed = Change(
        "model.spare", (Action.DELETE,), "delete_because_removed_from_manifest",
        (Step(Op.DELETE_MODEL, {"remote_id": 10}),),
        before={"remote_id": 10, "name": "Spare", "status": "Completed"}, protected=True)
    return _plan([delete_model, replace_project, allowed])


def sample_plan_drift() -> Plan:
    """Changes made in the console: a model renamed (renamed back), a dataset deleted
    (recreated), and an in-place update, a training start and a stop."""
    drift = (Drift("model.luna_max", "changed", 7,
                   {"name": {"expected": "Luna max", "actual": "Luna (console)"}}),
             Drift("dataset.luna_v1", "deleted", 12))
    rename = Change("model.luna_max", (Action.UPDATE,), "revert_drift",
                    (Step(Op.UPDATE_MODEL, {"fields": {"name": "Luna max"}}),),
                    before={"name": "Luna (console)"}, after={"name": "Luna max"})
    recreate = _dataset_create("luna_v1", "luna", 4, captions=1)
    recreate = Change(recreate.address, recreate.actions, "recreate_because_deleted_outside_bria",
                      recreate.steps, after=recreate.after, images=recreate.images)
    train = Change("model.luna_light", (Action.TRAIN,), "start_training_because_train_true",
                   (Step(Op.START_TRAINING, {"parameters": {}}),))
    stop = Change("model.luna_expert", (Action.STOP,), "stop_because_train_false",
                  (Step(Op.STOP_TRAINING, {"remote_id": 11}),),
                  before={"status": "InProgress"}, after={"status": "Stopped"})
    noop = Change("project.luna", (Action.NOOP,), "no-op", ())
    return _plan([noop, rename, recreate, train, stop], drift=drift)


def sample_plan_notes_only() -> Plan:
    return _plan([Change("model.luna_max", (Action.NOOP,), "no-op", ())],
                 notes=("model.luna_max: training InProgress (started 2024-05-01T10:00:00Z)",
                        "the previous apply was interrupted: apply will first reconcile "
                        "2 pending operations"))


def sample_plan_huge(datasets: int = 25, images: int = 200, models_per_dataset: int = 3) -> Plan:
    changes = [_project_create("big", "Big project")]
    for d in range(datasets):
        key = f"set_{d:02d}"
        changes.append(_dataset_create(key, "big", images, captions=images // 2))
        changes += [_model_create(f"{key}_m{m}", key) for m in range(models_per_dataset)]
    return _plan(changes)


HOSTILE_NAME = "<script>alert(1)</script> `rm -rf` </details> **bold** \x1b[31mred\x1b[0m\nnext"


def sample_plan_hostile() -> Plan:
    """User-provided text that would break Markdown, HTML or a terminal if not escaped."""
    project = _project_create("evil", HOSTILE_NAME)
    dataset = _dataset_create("ev`il<b>", "evil", 2, name=HOSTILE_NAME, captions=0)
    dataset = Change(dataset.address, dataset.actions, dataset.reason, dataset.steps,
                     after=dataset.after, depends_on=dataset.depends_on,
                     images=ImageChanges(upload=("images/<img src=x onerror=alert(1)>.png",
                                                 "images/```\n# heading.png")))
    model = Change("model.ev`il", (Action.DELETE,), "delete_because_removed_from_manifest",
                   (Step(Op.DELETE_MODEL, {"remote_id": 1}),),
                   before={"name": HOSTILE_NAME}, protected=True, refused=True)
    return _plan([project, dataset, model],
                 drift=(Drift("project.evil", "changed", 5,
                              {"name": {"expected": HOSTILE_NAME, "actual": "</summary>"}}),),
                 notes=(f"note with {HOSTILE_NAME}",))


SAMPLE_PLANS = {
    "empty": sample_plan_empty,
    "full_create": sample_plan_full_create,
    "clone": sample_plan_clone,
    "refused": sample_plan_refused,
    "drift": sample_plan_drift,
    "notes_only": sample_plan_notes_only,
    "hostile": sample_plan_hostile,
}
