"""Dependency ordering for plan changes, with cycle reporting.

Pure and deterministic: among changes that are ready at the same time, the one with the
smaller address goes first, so the same inputs always give the same order.
"""

from __future__ import annotations

import graphlib
from typing import Iterable, Mapping

from reconciler.model import Change


class DependencyCycle(ValueError):
    """The changes' `depends_on` edges form a cycle (a planner bug or a broken manifest)."""

    def __init__(self, cycle: list[str]):
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


def topological_order(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Every node of `deps` (node → nodes it depends on) after all of its dependencies.

    Dependencies that are not themselves keys of `deps` are ignored (they have nothing to
    wait for). Ties are broken by node name. Raises DependencyCycle.
    """
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node, node_deps in deps.items():
        sorter.add(node, *(d for d in node_deps if d in deps and d != node))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise DependencyCycle(list(exc.args[1])) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def order_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The changes in execution order: each after the changes it depends on."""
    by_address = {c.address: c for c in changes}
    order = topological_order({a: c.depends_on for a, c in by_address.items()})
    return tuple(by_address[a] for a in order)


def closure(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    """`start` plus every node reachable from it along `edges`."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return seen


def reverse_edges(edges: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """node → nodes that point at it."""
    reverse: dict[str, set[str]] = {}
    for node, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, set()).add(node)
    return reverse
