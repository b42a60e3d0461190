"""The three list calls that start `bria apply`, made once and shared.

Detecting the API dialect lists projects and datasets, and the refresh that follows lists
projects, datasets and models. Made one after the other that is three rounds of latency
before planning; here the first list call starts all three at once, and the probe and the
refresh each take the same answers: one round. The answers are as fresh as the refresh's
own would be — no API call is made between them (the caller stops sharing when one is:
a probe's throwaway project, or leftover journal entries resolved before the refresh).

When the dialect will be detected, `start` also asks, in the same round, whether the two
caption helper endpoints exist (read-only GETs, reconciler/probe.py step 3). An account whose
datasets already tell its dialect never reads those answers (two cheap requests spent); an
empty account — every first apply — saves the round of latency the probe would otherwise
add before the first change.

Only the list calls and those GETs are shared; every other read goes to the client.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

LISTS = ("list_projects", "list_datasets", "list_models")
# Turns of the event loop that take the three requests from "started" to "on the wire": over
# loopback ~25 (the first request also imports httpcore's async backend and connects); once
# they wait on the network a turn costs microseconds, so 100 leave a margin for under 1 ms.
SEND_TURNS = 100


class FirstReads:
    """A `refresh.ReadClient` (and the probe's list reader) over `client`."""

    def __init__(self, client: Any):
        self._client = client
        self._answers: dict[str, asyncio.Future[Any]] = {}
        self._helpers: dict[str, asyncio.Future[bool | None]] = {}     # path → endpoint_exists GET
        self._answered_at: dict[str, float] = {}
        self.shareable = True      # False once an API call may have changed what the lists say

    def _answer(self, method: str) -> asyncio.Future[Any]:
        if not self._answers:
            for name in LISTS:
                task = asyncio.ensure_future(getattr(self._client, name)())
                task.add_done_callback(_retrieve)   # a run that stops early never awaits some
                task.add_done_callback(lambda _, name=name: self._answered_at.setdefault(name, time.monotonic()))
                self._answers[name] = task
        return self._answers[method]

    def answered_at(self, method: str) -> float | None:
        """When the shared `method` list call was answered (time.monotonic()), or None if it
        has not been: the refresh, reading an answer the probe awaited first, would date it
        too late."""
        return self._answered_at.get(method)

    async def start(self, helper_paths: tuple[str, ...] = ()) -> None:
        """Send the three list calls now — and the read-only existence checks of
        `helper_paths` (see module doc) — and let the event loop run until they have gone
        out (a connection each), so that what the caller does next — CPU work that blocks
        the loop, like importing the planner — overlaps their round trip. On a slow
        connection (TLS handshakes) they go out while that work runs or right after it."""
        self._answer(LISTS[0])
        for path in helper_paths:
            task = asyncio.ensure_future(self._client.endpoint_exists("POST", path))
            task.add_done_callback(_retrieve)
            self._helpers[path] = task
        for _ in range(SEND_TURNS):
            await asyncio.sleep(0)

    async def list_projects(self) -> list[dict[str, Any]]:
        return await asyncio.shield(self._answer("list_projects"))

    async def list_datasets(self) -> list[dict[str, Any]]:
        return await asyncio.shield(self._answer("list_datasets"))

    async def list_models(self) -> list[dict[str, Any]]:
        return await asyncio.shield(self._answer("list_models"))

    async def endpoint_exists(self, method: str, path: str, *, read_only: bool = True) -> bool | None:
        """`BriaClient.endpoint_exists`, answered by the GET `start` sent when there is one."""
        if read_only and path in self._helpers:
            return await asyncio.shield(self._helpers[path])
        return await self._client.endpoint_exists(method, path, read_only=read_only)

    async def get_project(self, project_id: int) -> dict[str, Any]:
        return await self._client.get_project(project_id)

    async def get_dataset(self, dataset_id: int, max_images: int | None = None) -> dict[str, Any]:
        return await self._client.get_dataset(dataset_id, max_images)

    async def get_model(self, model_id: int) -> dict[str, Any]:
        return await self._client.get_model(model_id)

    def cancel(self) -> None:
        """Stop list calls nobody will read (the run ended before its refresh)."""
        for task in (*self._answers.values(), *self._helpers.values()):
            task.cancel()


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
