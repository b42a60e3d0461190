"""Refresh: read the live API into a LiveView. Read-only.

The number of requests grows with the number of resources, never with the number of
images: three list calls (projects, datasets, models), then one GET per *draft* dataset
version that state records as current — a draft's images can change outside bria, a
completed dataset is frozen (the list tells its name and status, and state knows its
images). A completed one is fetched only when state still thinks it is a draft.

Real-API edges handled here (the docs are silent or ambiguous on each):
- No pagination is documented, so a list might silently stop short. Before an object bria
  records is reported "deleted outside bria", it is confirmed with one GET by id (404 = gone);
  nothing extra is read when every recorded object is listed.
- Gen A documents model DELETE as "changes status to Deleted": such a model may stay listed.
  `is_live_model` is False for it; refresh leaves it out, so it is never alive nor adoptable.
- Any other status bria does not know is kept in the view as the API gave it; the planner
  and `--wait` leave such a model alone and say so (`status.is_known`).
- Every listed object must be a JSON object with an integer `id`; anything else is an
  `errors.UnexpectedResponse`, never a TypeError.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, Mapping, Protocol

from reconciler.api.errors import NotFound, UnexpectedResponse
from reconciler.model import LiveView
from reconciler.state.model import State
from reconciler.status import is_deleted

Objects = dict[int, dict[str, Any]]


class ReadClient(Protocol):
    async def list_projects(self) -> list[dict[str, Any]]: ...
    async def list_datasets(self) -> list[dict[str, Any]]: ...
    async def list_models(self) -> list[dict[str, Any]]: ...
    async def get_project(self, project_id: int) -> dict[str, Any]: ...
    async def get_dataset(self, dataset_id: int, max_images: int | None = None) -> dict[str, Any]: ...
    async def get_model(self, model_id: int) -> dict[str, Any]: ...


def is_live_model(obj: Mapping[str, Any]) -> bool:
    """False for a model the API reports as `Deleted` (in any letter case): it is gone, even
    though a list may still show it. Use this wherever a listed model could be adopted."""
    return not is_deleted(obj.get("status"))


async def refresh(client: ReadClient, state: State) -> LiveView:
    """The live objects, keyed by remote id; a dataset fetched individually carries `images`."""
    listed = await asyncio.gather(client.list_projects(), client.list_datasets(), client.list_models())
    answered = time.monotonic()
    projects, datasets, models = (_by_id(items, kind) for items, kind in zip(listed, ("project", "dataset", "model")))
    models = {i: m for i, m in models.items() if is_live_model(m)}
    confirmed = await asyncio.gather(
        _confirm_missing(projects, _recorded_projects(state), client.get_project, "project"),
        _confirm_missing(datasets, _recorded_datasets(state), client.get_dataset, "dataset"),
        _confirm_missing(models, _recorded_models(state), client.get_model, "model"))
    to_fetch = _drafts_to_fetch(state, datasets)
    fetched = await asyncio.gather(*(_get_dataset(client, i) for i in to_fetch))
    for remote_id, detail in zip(to_fetch, fetched):
        if detail is None:
            datasets.pop(remote_id, None)         # deleted between the list and the GET
        else:
            datasets[remote_id] = detail
    return LiveView(projects=projects, datasets=datasets, models=models,
                    requests=3 + sum(confirmed) + len(to_fetch), projects_listed=answered)


def _by_id(items: Any, kind: str) -> Objects:
    """A list answer as {id: object}; any other shape is an UnexpectedResponse."""
    if not isinstance(items, list):
        raise UnexpectedResponse(f"the {kind} list is not a JSON list")
    out: Objects = {}
    for item in items:
        out[_object_id(item, kind)] = dict(item)
    return out


def _object_id(item: Any, kind: str) -> int:
    remote_id = item.get("id") if isinstance(item, dict) else None
    if not isinstance(remote_id, int) or isinstance(remote_id, bool):
        raise UnexpectedResponse(f"the API answered a {kind} without an integer id: {str(item)[:200]}")
    return remote_id


def _recorded_projects(state: State) -> set[int]:
    return {r.remote_id for r in state.projects.values()}


def _recorded_datasets(state: State) -> set[int]:
    return {v.remote_id for r in state.datasets.values() for v in r.versions}


def _recorded_models(state: State) -> set[int]:
    return {r.remote_id for r in state.models.values()}


async def _confirm_missing(listed: Objects, recorded: set[int], get: Callable[[int], Awaitable[Any]],
                           kind: str) -> int:
    """GET each recorded id the list lacks; add the ones that exist to `listed`. Returns the
    number of requests made (one per missing id)."""
    missing = sorted(recorded - set(listed))
    found = await asyncio.gather(*(_get_or_none(get, remote_id) for remote_id in missing))
    for remote_id, obj in zip(missing, found):
        if obj is None:
            continue
        if _object_id(obj, kind) != remote_id:
            raise UnexpectedResponse(f"the API answered {kind} {remote_id} with another id ({obj['id']})")
        if kind != "model" or is_live_model(obj):
            listed[remote_id] = dict(obj)
    return len(missing)


async def _get_or_none(get: Callable[[int], Awaitable[Any]], remote_id: int) -> Any:
    try:
        return await get(remote_id)
    except NotFound:
        return None


def _drafts_to_fetch(state: State, listed: dict[int, dict[str, Any]]) -> list[int]:
    """Current dataset versions recorded as draft that the API still has, in id order
    (skipping any already fetched individually, e.g. to confirm it exists)."""
    ids = {r.current.remote_id for r in state.datasets.values()
           if r.current is not None and r.current.status == "draft" and r.current.remote_id in listed
           and "images" not in listed[r.current.remote_id]}
    return sorted(ids)


async def _get_dataset(client: ReadClient, dataset_id: int) -> dict[str, Any] | None:
    try:
        return dict(await client.get_dataset(dataset_id))
    except NotFound:
        return None
