"""Refresh: read the live API into a LiveView. Read-only.

The number of requests grows with the number of resources, never with the number of
images: three list calls (projects, datasets, models), then one GET per *draft* dataset
version that state records as current — a draft's images can change outside bria, a
completed dataset is frozen (the list tells its name and status, and state knows its
images). A completed one is fetched only when state still thinks it is a draft.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from reconciler.api.errors import NotFound
from reconciler.model import LiveView
from reconciler.state.model import State


class ReadClient(Protocol):
    async def list_projects(self) -> list[dict[str, Any]]: ...
    async def list_datasets(self) -> list[dict[str, Any]]: ...
    async def list_models(self) -> list[dict[str, Any]]: ...
    async def get_dataset(self, dataset_id: int, max_images: int | None = None) -> dict[str, Any]: ...


async def refresh(client: ReadClient, state: State) -> LiveView:
    """The live objects, keyed by remote id; a dataset fetched individually carries `images`."""
    projects, datasets, models = await asyncio.gather(
        client.list_projects(), client.list_datasets(), client.list_models())
    by_id = {int(d["id"]): dict(d) for d in datasets}
    to_fetch = _drafts_to_fetch(state, by_id)
    fetched = await asyncio.gather(*(_get_dataset(client, i) for i in to_fetch))
    for remote_id, detail in zip(to_fetch, fetched):
        if detail is None:
            by_id.pop(remote_id, None)         # deleted between the list and the GET
        else:
            by_id[remote_id] = detail
    return LiveView(projects={int(p["id"]): p for p in projects}, datasets=by_id,
                    models={int(m["id"]): m for m in models}, requests=3 + len(to_fetch))


def _drafts_to_fetch(state: State, listed: dict[int, dict[str, Any]]) -> list[int]:
    """Current dataset versions recorded as draft that the list still shows, in id order."""
    ids = {r.current.remote_id for r in state.datasets.values()
           if r.current is not None and r.current.status == "draft" and r.current.remote_id in listed}
    return sorted(ids)


async def _get_dataset(client: ReadClient, dataset_id: int) -> dict[str, Any] | None:
    try:
        return dict(await client.get_dataset(dataset_id))
    except NotFound:
        return None
