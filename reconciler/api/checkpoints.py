"""Checkpoint calls (mixed into `BriaClient`): expert models' checkpoints, documented in
generation C (served by the mixed and fibo dialects; the client refuses them in legacy)."""

from __future__ import annotations

from typing import Any

from reconciler.api import dialects


class CheckpointCalls:
    """Needs the client's `dialect` and `_call`."""

    dialect: str

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:  # provided by BriaClient
        raise NotImplementedError

    def _checkpoints_path(self, model_id: int, step: int | None = None) -> str:
        dialects.require_family(self.dialect, dialects.FIBO_FAMILY, "checkpoints")
        path = f"/tailored-gen/models/{int(model_id)}/checkpoints"
        return path if step is None else f"{path}/{int(step)}"

    async def list_checkpoints(self, model_id: int) -> dict[str, Any]:
        """`{"checkpoints": [{checkpoint_step, training_job_id, created_at}], "active_model_version"}`."""
        return await self._call("GET", self._checkpoints_path(model_id))

    async def get_checkpoint(self, model_id: int, step: int) -> dict[str, Any]:
        return await self._call("GET", self._checkpoints_path(model_id, step))

    async def delete_checkpoint(self, model_id: int, step: int) -> None:
        """The active checkpoint cannot be deleted (400)."""
        await self._call("DELETE", self._checkpoints_path(model_id, step), expect=None)
