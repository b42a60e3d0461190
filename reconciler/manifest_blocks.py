"""The manifest's `moved`, `removed` and `import` blocks (Terraform-shaped): checks and specs.

The JSON Schema checks their shape; this module checks what it cannot — that they agree with
the declared resources and with each other — and reports every problem at its line:
- moved: `from` and `to` of the same kind; `to` declared, `from` no longer declared; an
  address moved at most once (from or to); no chains (a `to` that is another block's `from`).
- removed: the address is not declared and appears once; it is not also moved.
- import: `to` is declared and appears once; it is not also the `to` of a move.
"""

from __future__ import annotations

from typing import Any, Iterable

from reconciler.diagnostics import Diagnostic, error
from reconciler.model import ImportBlock, MovedBlock, RemovedBlock, split_address
from reconciler.yamlsource import FieldPath, SourceMap, json_path

Blocks = tuple[tuple[MovedBlock, ...], tuple[RemovedBlock, ...], tuple[ImportBlock, ...]]


def check_blocks(data: dict[str, Any], source_map: SourceMap, declared: Iterable[str],
                 schema_error_paths: list[FieldPath]) -> tuple[Blocks, list[Diagnostic]]:
    """The blocks of a schema-checked document and the problems found; a section with a
    schema error is skipped (the schema already reported it)."""
    checker = _BlockChecker(source_map, set(declared))
    usable = {name: data.get(name) or [] for name in ("moved", "removed", "import")
              if not any(p[:1] == (name,) for p in schema_error_paths)}
    moved = checker.moved(usable.get("moved", []))
    removed = checker.removed(usable.get("removed", []), moved)
    imports = checker.imports(usable.get("import", []), moved)
    return (moved, removed, imports), checker.diagnostics


class _BlockChecker:
    def __init__(self, source_map: SourceMap, declared: set[str]):
        self.map = source_map
        self.declared = declared
        self.diagnostics: list[Diagnostic] = []

    def fail(self, path: FieldPath, message: str, address: str | None = None) -> None:
        self.diagnostics.append(error(message, self.map.key_or_value(path), json_path(path), address))

    def moved(self, entries: list[dict[str, Any]]) -> tuple[MovedBlock, ...]:
        blocks, seen = [], set()
        froms = {e["from"] for e in entries}
        for i, entry in enumerate(entries):
            old, new, base = entry["from"], entry["to"], ("moved", i)
            problem = None
            if split_address(old)[0] != split_address(new)[0]:
                problem = (base + ("to",), f"moved: {old} and {new} are different kinds; only a key can change")
            elif old == new:
                problem = (base + ("to",), f"moved: from and to are both {old}")
            elif new not in self.declared:
                problem = (base + ("to",), f"moved: {new} is not declared in the manifest")
            elif old in self.declared:
                problem = (base + ("from",), f"moved: {old} is still declared; a moved address must be gone "
                                             "from the manifest")
            elif old in seen or new in seen:
                problem = (base, f"moved: {old if old in seen else new} is moved more than once")
            elif new in froms:
                problem = (base + ("to",), f"moved: {new} is itself moved elsewhere; write one block from "
                                           f"{old} to the final address instead of a chain")
            seen |= {old, new}
            if problem:
                self.fail(problem[0], problem[1], new)
            else:
                blocks.append(MovedBlock(old, new, self.map.key_or_value(base)))
        return tuple(blocks)

    def removed(self, entries: list[dict[str, Any]], moved: tuple[MovedBlock, ...]) -> tuple[RemovedBlock, ...]:
        blocks, seen = [], set()
        moved_addresses = {m.from_address for m in moved} | {m.to_address for m in moved}
        for i, entry in enumerate(entries):
            addr, base = entry["address"], ("removed", i)
            if addr in self.declared:
                self.fail(base + ("address",), f"removed: {addr} is still declared in the manifest; delete "
                                               "its declaration (the removed block says what happens to it)", addr)
            elif addr in seen:
                self.fail(base + ("address",), f"removed: {addr} appears more than once", addr)
            elif addr in moved_addresses:
                self.fail(base + ("address",), f"removed: {addr} is also in a moved block", addr)
            else:
                blocks.append(RemovedBlock(addr, bool(entry["destroy"]), self.map.key_or_value(base)))
            seen.add(addr)
        return tuple(blocks)

    def imports(self, entries: list[dict[str, Any]], moved: tuple[MovedBlock, ...]) -> tuple[ImportBlock, ...]:
        blocks, seen = [], set()
        moved_to = {m.to_address for m in moved}
        for i, entry in enumerate(entries):
            addr, base = entry["to"], ("import", i)
            if addr not in self.declared:
                self.fail(base + ("to",), f"import: {addr} is not declared in the manifest; declare it first", addr)
            elif addr in seen:
                self.fail(base + ("to",), f"import: {addr} is imported more than once", addr)
            elif addr in moved_to:
                self.fail(base + ("to",), f"import: {addr} is also the target of a moved block", addr)
            else:
                blocks.append(ImportBlock(addr, int(entry["id"]), self.map.key_or_value(base)))
            seen.add(addr)
        return tuple(blocks)


def blocks_digest_part(blocks: Blocks) -> dict[str, Any]:
    """The blocks' part of the manifest digest (empty when there are none, so a manifest
    without blocks keeps the digest it always had)."""
    moved, removed, imports = blocks
    part: dict[str, Any] = {}
    if moved:
        part["moved"] = [[m.from_address, m.to_address] for m in moved]
    if removed:
        part["removed"] = [[r.address, r.destroy] for r in removed]
    if imports:
        part["import"] = [[b.to_address, b.remote_id] for b in imports]
    return part
