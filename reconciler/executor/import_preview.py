"""What the manifest's pending `import` blocks will record, read from the API before planning.

The planner is pure, so the objects to import are read here (GETs only, nothing is written)
and handed to it as records; it then plans each imported resource like one already in state.
The executor's IMPORT_RESOURCE step reads the object again and records it for real.
"""

from __future__ import annotations

from typing import Any

from reconciler.api import errors
from reconciler.executor.importing import ImportRefused, import_resource
from reconciler.model import ImportBlock, Manifest, split_address
from reconciler.planner.blocks import apply_moves
from reconciler.state.model import State

_KIND_ORDER = {"project": 0, "dataset": 1, "model": 2}


class ImportProblem(Exception):
    """An import block that cannot be carried out; the message names the block's line."""


async def pending_import_records(manifest: Manifest, state: State, client: Any) -> dict[str, Any]:
    """address → the record each pending import block will write (parents first, so a
    dataset imported with its project finds it)."""
    if not manifest.imports:
        return {}
    working, _ = apply_moves(manifest, state)
    pending = sorted((b for b in manifest.imports if working.get(b.to_address) is None),
                     key=lambda b: _KIND_ORDER[split_address(b.to_address)[0]])
    records: dict[str, Any] = {}
    for block in pending:
        try:
            working = await import_resource(manifest, working, client, block.to_address, block.remote_id)
        except ImportRefused as exc:
            raise ImportProblem(_where(block, str(exc))) from None
        except errors.NotFound:
            raise ImportProblem(_where(block, f"no {split_address(block.to_address)[0]} with id "
                                              f"{block.remote_id} in this account")) from None
        records[block.to_address] = working.get(block.to_address)
    return records


def _where(block: ImportBlock, message: str) -> str:
    at = f"{block.source}: " if block.source is not None else ""
    return f"{at}import {block.to_address} (id {block.remote_id}): {message}"
