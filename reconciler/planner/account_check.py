"""Does the account look like the one the state was made against? Pure.

A state pointed at another endpoint, or read with another account's token, sees none of the
objects it records: every resource reads as "deleted outside bria" and the plan would
recreate — and retrain — all of it. Before planning, bria compares:

- the endpoint the state recorded (`State.endpoint`) with the one this run uses, and
- how many of the objects the state records (projects, current dataset versions, current
  models) the live view still shows. More than half missing, of at least two, is not what a
  console user deleting something looks like; it is another account.

Nothing token-derived is stored: the endpoint and the recorded ids are enough to tell, and
a hash of a token is a long-lived secret-derived value that a state file (often committed
or shared) should not carry.
"""

from __future__ import annotations

from reconciler.model import LiveView
from reconciler.state.model import State

ACCEPT_FLAG = "--accept-missing"


def _norm(endpoint: str) -> str:
    return endpoint.strip().rstrip("/")


def recorded_objects(state: State) -> list[tuple[str, int]]:
    objects = [(f"project.{k}", r.remote_id) for k, r in sorted(state.projects.items())]
    objects += [(f"dataset.{k}", r.current.remote_id) for k, r in sorted(state.datasets.items()) if r.current]
    objects += [(f"model.{k}", r.remote_id) for k, r in sorted(state.models.items())]
    return objects


def missing_objects(state: State, live: LiveView) -> list[tuple[str, int]]:
    tables = {"project": live.projects, "dataset": live.datasets, "model": live.models}
    return [(addr, rid) for addr, rid in recorded_objects(state) if rid not in tables[addr.split(".", 1)[0]]]


def account_mismatch(state: State, live: LiveView | None, endpoint: str) -> str | None:
    """Why this state probably does not belong to this account/endpoint, or None."""
    if state.endpoint and _norm(state.endpoint) != _norm(endpoint):
        return (f"this state was made against {state.endpoint}, but this run uses {endpoint}: another "
                f"endpoint holds other objects, so every resource would look deleted and be created (and "
                f"trained) again. Point the manifest's api.endpoint / BRIA_API_URL back, or pass {ACCEPT_FLAG} "
                f"to plan against {endpoint} anyway")
    if live is None:
        return None
    recorded = recorded_objects(state)
    missing = missing_objects(state, live)
    if len(recorded) >= 2 and 2 * len(missing) > len(recorded):
        shown = ", ".join(f"{addr} ({rid})" for addr, rid in missing[:6])
        more = f", … ({len(missing) - 6} more)" if len(missing) > 6 else ""
        return (f"{len(missing)} of the {len(recorded)} objects this state records are missing from the account at "
                f"{endpoint}: {shown}{more}. Most likely BRIA_API_TOKEN is another account's token (or another "
                f"organisation's), or the state belongs to another endpoint/account; nothing was planned, so "
                f"nothing is re-created or retrained. If they really were deleted, pass {ACCEPT_FLAG} to plan "
                f"their re-creation")
    return None
