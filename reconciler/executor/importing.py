"""`bria import ADDR REMOTE_ID`: adopt an existing remote object into state.

Reads the object, checks it fits the manifest's declaration of ADDR (its parent must be
the remote object that state records for the declared parent — import parents first), and
returns the state with a record for it. Nothing in the API changes; `bria plan` then shows
what differs between the object and the manifest.

Supported:
- project: any project of the organisation; `applied` is taken from the remote fields.
- dataset: recorded as a single version (draft or completed). Its images are keyed by
  content through image_name: names written by bria (`<sha256[:16]>-<file>`) map exactly;
  otherwise an image named like a manifest file (same file name) is assumed to be that
  file. Anything else is recorded as `unknown-<image id>`, so the plan removes or replaces
  it. Captions and caption sources are recorded as the API reports them.
- model: the model becomes the current model of ADDR, on the dataset version it was created
  on, which must be a recorded version of the declared dataset.
"""

from __future__ import annotations

from reconciler.api.protocol import BriaApi
from reconciler.executor import records
from reconciler.model import address, Manifest, split_address
from reconciler.planner.journal_match import CREATE_KIND
from reconciler.state.model import DatasetRecord, DatasetVersion, ModelRecord, ProjectRecord, State
from reconciler.status import ModelStatus


class ImportRefused(Exception):
    """The import does not fit the manifest or the state; the message says why."""


async def import_resource(manifest: Manifest, state: State, client: BriaApi, addr: str, remote_id: int) -> State:
    """The state with ADDR recorded as REMOTE_ID. A pending create entry of ADDR (an
    interrupted create whose outcome was ambiguous) is dropped: the import decides it."""
    state = await _import(manifest, state, client, addr, remote_id)
    return _without_create_entries(state, addr)


def _without_create_entries(state: State, addr: str) -> State:
    for entry in state.journal:
        if entry.address == addr and entry.op in CREATE_KIND:
            state = state.without_journal_entry(entry.id)
    return state


async def _import(manifest: Manifest, state: State, client: BriaApi, addr: str, remote_id: int) -> State:
    kind, key = split_address(addr)
    if state.get(addr) is not None:
        raise ImportRefused(f"{addr} is already in state; `bria state rm {addr}` first to import another object")
    if key not in {"project": manifest.projects, "dataset": manifest.datasets, "model": manifest.models}[kind]:
        raise ImportRefused(f"{addr} is not declared in {manifest.path.name}; declare it before importing")
    if kind == "project":
        remote = await client.get_project(remote_id)
        return state.with_resource(addr, ProjectRecord(int(remote["id"]), records.project_applied(remote)))
    if kind == "dataset":
        return await _import_dataset(manifest, state, client, key, remote_id)
    return await _import_model(manifest, state, client, key, remote_id)


async def _import_dataset(manifest: Manifest, state: State, client: BriaApi, key: str, remote_id: int) -> State:
    spec = manifest.datasets[key]
    project = state.projects.get(spec.project)
    if project is None:
        raise ImportRefused(f"{address('dataset', key)} belongs to {address('project', spec.project)}, "
                            "which is not in state: import it first")
    remote = await client.get_dataset(remote_id)
    if int(remote.get("project_id", -1)) != project.remote_id:
        raise ImportRefused(f"dataset {remote_id} belongs to project {remote.get('project_id')}, but "
                            f"{address('project', spec.project)} is project {project.remote_id}")
    images = remote.get("images")
    if images is None:
        images = await client.list_images(remote_id)
    known = {img.image_name: img.sha256 for img in spec.images}
    known.update({img.path.name: img.sha256 for img in spec.images})
    version = DatasetVersion(int(remote["id"]), remote.get("name") or "", remote.get("status") or "draft",
                             remote.get("caption_prefix"),
                             records.map_images_to_content(images, known, [i.sha256 for i in spec.images]),
                             remote.get("visual_schema"))
    # `caption_prefix: auto` pins the prefix once generated; the imported one is that prefix.
    pinned = remote.get("caption_prefix") if spec.caption_prefix == "auto" else None
    # Likewise `visual_schema: auto`: the imported dataset's schema is the pinned one.
    pinned_schema = remote.get("visual_schema") if spec.visual_schema == "auto" else None
    return state.with_resource(address("dataset", key), DatasetRecord(project=spec.project, versions=(version,),
                                                                      pinned_prefix=pinned,
                                                                      pinned_schema=pinned_schema))


async def _import_model(manifest: Manifest, state: State, client: BriaApi, key: str, remote_id: int) -> State:
    spec = manifest.models[key]
    dataset = state.datasets.get(spec.dataset)
    if dataset is None:
        raise ImportRefused(f"{address('model', key)} is trained on {address('dataset', spec.dataset)}, "
                            "which is not in state: import it first")
    remote = await client.get_model(remote_id)
    versions = {v.remote_id for v in dataset.versions}
    if int(remote.get("dataset_id", -1)) not in versions:
        raise ImportRefused(f"model {remote_id} was created on dataset {remote.get('dataset_id')}, which is not a "
                            f"recorded version of {address('dataset', spec.dataset)} ({sorted(versions)})")
    record = ModelRecord(
        remote_id=int(remote["id"]), dataset=spec.dataset, dataset_remote_id=int(remote["dataset_id"]),
        name=remote.get("name") or "", description=remote.get("description"),
        training_version=records.model_training_version(remote),
        training_mode=remote.get("training_mode") or "fully_automated",
        training_parameters=dict(spec.training_parameters), status=remote.get("status") or ModelStatus.CREATED.value,
        generation_prefix=remote.get("generation_prefix") or None)
    return state.with_resource(address("model", key), record)
