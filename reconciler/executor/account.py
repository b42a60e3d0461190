"""What the account held before a create: the source of a journal entry's watermark.

A create entry records the highest id of its kind and the same-name, same-parent objects
already present (planner/journal_match.py says why). Reading them must not cost a request
per create, so the lists come from the refresh that preceded the plan (`LiveView`), and
objects this run creates are added as it goes. Without a live view (a saved plan, journal
resolution) each kind is listed once per run, on first need.

Projects are the exception: they have no parent, so another state sharing the account and
the manifest's names (staging and prod) can make a same-name project at any time. The
refresh's project list may be minutes old at a confirmation prompt; a project create then
lists projects right before its call — one GET for a rare call — so the window in which
another state's project could be mistaken for ours shrinks to about one round trip (from
the list's answer to the create's commit). When the refresh's list is younger than
`FRESH_LIST_SECONDS` (an auto-approved apply with a quick plan) the first project create
uses it instead: a window of at most that plus a round trip, for one round trip (0.1–0.5 s
on Bria) less at the start of every fresh apply.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Mapping

from reconciler.api.protocol import BriaApi
from reconciler.model import LiveView
from reconciler.planner.journal_match import watermark

Caller = Callable[..., Awaitable[Any]]   # `call(api.method, *args)`
ALWAYS_FRESH = frozenset({"project"})
FRESH_LIST_SECONDS = 1.0


class AccountView:
    def __init__(self, live: LiveView | None = None):
        self._listed: dict[str, list[Mapping[str, Any]]] = {}
        self._projects_listed: float | None = None
        if live is not None:
            self._listed = {"project": list(live.projects.values()), "dataset": list(live.datasets.values()),
                            "model": list(live.models.values())}
            self._projects_listed = live.projects_listed

    async def watermark(self, kind: str, name: str, parent_id: int | None, call: Caller,
                        api: BriaApi) -> dict[str, Any]:
        if kind not in self._listed or (kind in ALWAYS_FRESH and not self._fresh_enough()):
            self._listed[kind] = list(await call(_list_method(api, kind)))
        if kind in ALWAYS_FRESH:
            self._projects_listed = None     # the refresh's list serves one project create at most
        return watermark(kind, name, parent_id, self._listed[kind])

    def _fresh_enough(self) -> bool:
        """The refresh's project list was answered less than FRESH_LIST_SECONDS ago."""
        return self._projects_listed is not None and time.monotonic() - self._projects_listed < FRESH_LIST_SECONDS

    def created(self, kind: str, remote: Mapping[str, Any]) -> None:
        """Remember an object this run created (it raises the watermark of later creates)."""
        if kind in self._listed and "id" in remote:
            self._listed[kind].append(remote)


def _list_method(api: BriaApi, kind: str) -> Callable[[], Awaitable[list[Any]]]:
    """The account-wide list of `kind` (project, dataset, model)."""
    return {"project": api.list_projects, "dataset": api.list_datasets, "model": api.list_models}[kind]
