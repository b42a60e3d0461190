"""The planner: a pure function (Manifest, State, LiveView) → Plan.

No I/O, no clock, deterministic: the same inputs give the same plan, byte for byte. The
lifecycle rules (docs/design.md) live in one module per resource kind (projects, datasets,
models); this module runs them in dependency order of kinds, applies `--target` /
`--exclude`, wires `depends_on` and orders the changes (reconciler.graph).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from reconciler.graph import DependencyCycle, order_changes
from reconciler.model import LiveView, Manifest, Plan
from reconciler.planner.blocks import add_block_changes, apply_moves, with_imported
from reconciler.planner.context import ALL, Findings, PlanError, PlanInputs, ProjectOutcome, live_from_state
from reconciler.planner.datasets import plan_datasets
from reconciler.planner.journal_match import leftover_notes
from reconciler.planner.lookalikes import duplicate_notes, find_duplicates, twin_notes
from reconciler.planner.models import Upstream, plan_models, training_targets
from reconciler.planner.projects import plan_projects
from reconciler.planner.selection import resource_edges, selected, wire_dependencies
from reconciler.reasons import Reason
from reconciler.state.model import State

__all__ = ["plan", "PlanError", "ALL"]


def plan(manifest: Manifest, state: State, live: LiveView | None, *, targets: Iterable[str] = (),
         excludes: Iterable[str] = (), allow_destroy: Iterable[str] | str = frozenset(),
         destroying: bool = False, allow_duplicates: bool = False,
         imported: Mapping[str, Any] | None = None) -> Plan:
    """What to do so that the API matches the manifest.

    `live=None` (--no-refresh) trusts the state as the live view. `allow_destroy` is a set
    of addresses (or "all") whose protected changes may go ahead; the others stay in the
    plan with `refused=True`. `destroying` (`bria destroy`, an empty manifest): deletions
    give the command as their reason. `allow_duplicates` allows every untracked look-alike
    (planner/lookalikes.py) for this plan. `imported` maps the address of each pending
    `import` block to the record its import will write (planner/blocks.py). Raises PlanError
    for unknown addresses, a dependency cycle or a move that cannot be made.
    """
    recorded = state
    state, moves = apply_moves(manifest, state)
    imported = dict(imported or {})
    state = with_imported(state, imported)
    allowed = ALL if allow_destroy == ALL else frozenset(allow_destroy)
    inputs = PlanInputs(manifest, state, live if live is not None else live_from_state(state),
                        refreshed=live is not None, allow_destroy=allowed,
                        removal_reason=Reason.DELETE_BECAUSE_BRIA_DESTROY if destroying
                        else Reason.DELETE_BECAUSE_REMOVED_FROM_MANIFEST)
    out, projects = _plan_resources(inputs)
    add_block_changes(manifest, state, moves, imported, out)

    targets, excludes = tuple(targets), tuple(excludes)
    edges = resource_edges(inputs, projects.replaced)
    chosen = selected(edges, targets, excludes)
    changes = wire_dependencies({a: c for a, c in out.changes.items() if a in chosen}, edges)
    try:
        ordered = order_changes(changes.values())
    except DependencyCycle as exc:
        raise PlanError(str(exc)) from None
    notes = [n.text for n in out.notes if n.address is None or n.address in chosen]
    duplicates: tuple = ()
    if live is not None:
        duplicates = find_duplicates(manifest, state, live, ordered, allow_all=allow_duplicates)
        notes += duplicate_notes(duplicates) + twin_notes(manifest, state, live)
    if state.journal:
        if live is not None:
            notes[0:0] = leftover_notes(state, live.projects, live.datasets, live.models)
        notes.insert(0, _journal_note(state))
    return Plan(
        changes=ordered,
        drift=tuple(sorted((d for d in out.drift if d.address in chosen), key=lambda d: d.address)),
        notes=tuple(notes),
        state_lineage=recorded.lineage, state_serial=recorded.serial,
        manifest_digest=manifest.digest, manifest_path=manifest.path.as_posix(),
        targets=targets, excludes=excludes, duplicates=duplicates)


def _plan_resources(inputs: PlanInputs) -> tuple[Findings, ProjectOutcome]:
    """One pass, each kind handed what the earlier ones decided. Which dataset versions a
    training would start on comes first: no training bria starts may use images that are not
    in the manifest, so such a version's strays go before it (datasets._plan_completed)."""
    out = Findings()
    trained_next = training_targets(inputs)
    projects = plan_projects(inputs, out)
    datasets = plan_datasets(inputs, out, projects, trained_next)
    plan_models(inputs, out, Upstream(projects, datasets))
    return out, projects


def _journal_note(state: State) -> str:
    pending = ", ".join(f"{e.op} {e.address}" for e in state.journal[:5])
    more = f", … ({len(state.journal) - 5} more)" if len(state.journal) > 5 else ""
    return (f"the previous apply was interrupted: apply will first reconcile {len(state.journal)} pending "
            f"operation(s) ({pending}{more})")
