"""Resource dependencies, `--target` / `--exclude` selection, and each change's `depends_on`.

Edges point from a resource to what it needs first: a dataset needs its project, a model its
dataset. Deletions run the other way round: a removed project is deleted after its removed
datasets, a removed dataset after its removed models — and a project that is replaced
(deleted, then created) waits for the removal of the datasets and models inside it, so
that a model being stopped does not make the API refuse the project's deletion (409).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from reconciler.graph import closure, reverse_edges
from reconciler.model import Change, address, split_address
from reconciler.planner.context import PlanError, PlanInputs


def resource_edges(inputs: PlanInputs, replaced_projects: Iterable[str] = ()) -> dict[str, set[str]]:
    """address → addresses that must be handled before it."""
    manifest, state = inputs.manifest, inputs.state
    replaced = set(replaced_projects)
    edges: dict[str, set[str]] = {a: set() for a in [*manifest.addresses(), *state.addresses()]}
    for spec in manifest.datasets.values():
        edges[spec.address].add(address("project", spec.project))
    for spec in manifest.models.values():
        edges[spec.address].add(address("dataset", spec.dataset))
    for key, record in state.datasets.items():
        if key not in manifest.datasets and (record.project not in manifest.projects or record.project in replaced):
            edges.setdefault(address("project", record.project), set()).add(address("dataset", key))
    for key, record in state.models.items():
        if key not in manifest.models and record.dataset not in manifest.datasets:
            edges.setdefault(address("dataset", record.dataset), set()).add(address("model", key))
        elif key not in manifest.models and _project_of(inputs, record.dataset) in replaced:
            edges.setdefault(address("project", _project_of(inputs, record.dataset)), set()).add(address("model", key))
    return edges


def _project_of(inputs: PlanInputs, dataset_key: str) -> str | None:
    record = inputs.state.datasets.get(dataset_key)
    return record.project if record else None


def check_addresses(addrs: Iterable[str], edges: Mapping[str, Iterable[str]], flag: str) -> None:
    for addr in addrs:
        try:
            split_address(addr)
        except ValueError as exc:
            raise PlanError(f"{flag} {addr}: {exc}") from None
        if addr not in edges:
            raise PlanError(f"{flag} {addr}: no such resource in the manifest or the state")


def selected(edges: Mapping[str, set[str]], targets: tuple[str, ...], excludes: tuple[str, ...]) -> set[str]:
    """Addresses the plan covers: the targets and what they depend on (all when no target),
    minus the excluded ones and everything that depends on them."""
    check_addresses(targets, edges, "--target")
    check_addresses(excludes, edges, "--exclude")
    chosen = closure(targets, edges) if targets else set(edges)
    return chosen - closure(excludes, reverse_edges(edges))


def wire_dependencies(changes: Mapping[str, Change], edges: Mapping[str, set[str]]) -> dict[str, Change]:
    """Each change with `depends_on` = the nearest changes among its dependencies (looking
    through resources that have no change of their own)."""
    wired: dict[str, Change] = {}
    for addr, change in changes.items():
        deps: set[str] = set()
        stack, seen = list(edges.get(addr, ())), set()
        while stack:
            dep = stack.pop()
            if dep in seen or dep == addr:
                continue
            seen.add(dep)
            if dep in changes:
                deps.add(dep)
            else:
                stack.extend(edges.get(dep, ()))
        wired[addr] = replace(change, depends_on=tuple(sorted(deps)))
    return wired
