"""Which dialect an account speaks (legacy, mixed, fibo), whether its token works, and what
rate limiting the calls met — for `bria probe`, and for `bria apply` when `api.dialect` is
not set.

Detection, cheapest evidence first:
1. `GET /tailored-gen/projects` — the token works (401/403 otherwise);
2. the shapes of existing datasets (`GET /tailored-gen/datasets`): a `training_version` on a
   dataset is generation B (mixed); `caption_prefix` without `visual_schema` is legacy;
   `visual_schema` without `caption_prefix` is fibo;
3. which caption helper exists (`generate_prefix`, `generate_visual_schema`): a GET on
   them answers 405 (wrong method) where the endpoint exists and 404 where it does not;
   when GETs tell nothing (404 for both, as a server that hides wrong methods would answer)
   an empty POST, which creates nothing, is answered 400 (bad body) or 404. Only the
   prefix helper → legacy; only the schema helper → fibo;
4. both exist (a mixed account, or a newer API that kept the old endpoint): one throwaway
   project named `bria-probe-<random>` gets a dataset with `training_version: fibo`; the
   answer shows whether datasets carry a training_version (mixed) or not (fibo). The
   project is deleted at once (with its dataset). Nothing the state manages is touched.

The client passed in must speak the mixed dialect (it may then send everything the probe
needs); its statistics give the rate-limit observations.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping

from reconciler.api import errors
from reconciler.api.dialects import FIBO, FIBO_FAMILY, LEGACY, MIXED, families
from reconciler.api.shapes import dataset_family

PROBE_PROJECT_PREFIX = "bria-probe-"
_PREFIX_HELPER = "/tailored-gen/generate_prefix"
_SCHEMA_HELPER = "/tailored-gen/generate_visual_schema"
HELPER_PATHS = (_PREFIX_HELPER, _SCHEMA_HELPER)     # step 3's endpoints


@dataclass
class ProbeResult:
    token_ok: bool
    dialect: str | None = None
    evidence: list[str] = field(default_factory=list)
    throwaway_project: dict[str, Any] | None = None   # {"name", "id", "deleted"} when one was made
    problem: str | None = None                         # why the probe could not finish

    def explanation(self) -> str:
        return "; ".join(self.evidence)

    def to_dict(self, client_stats: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"token_ok": self.token_ok, "dialect": self.dialect,
                                "evidence": list(self.evidence), "throwaway_project": self.throwaway_project,
                                "problem": self.problem}
        if client_stats is not None:
            data["rate_limit"] = rate_limit_report(client_stats)
        return data


def rate_limit_report(stats: Any) -> dict[str, Any]:
    """What the calls met: requests sent, 429s, retries, per endpoint. The API documents no
    rate-limit headers, so this is all a client can observe without spending quota."""
    return {"requests": stats.requests, "rate_limited": stats.rate_limited, "retries": stats.retries,
            "by_endpoint": {key: {"requests": s.requests, "rate_limited": s.rate_limited}
                            for key, s in sorted(stats.by_endpoint.items())}}


async def detect(client: Any, *, allow_throwaway: bool = True, lists: Any = None) -> ProbeResult:
    """Probe the account behind `client` (see the module docstring). Raises nothing for a
    bad token: `token_ok` is False and `problem` says why. `lists` answers the two list
    calls and step 3's GETs (default: `client`; `bria apply` shares them with its refresh,
    cli/first_reads.py). Steps 1 and 2 are asked at once, as are the two helpers of step 3:
    one round of latency each (none for step 3 when `lists` sent its GETs with step 1's)."""
    lists = client if lists is None else lists
    projects, datasets = await asyncio.gather(lists.list_projects(), lists.list_datasets(),
                                              return_exceptions=True)
    if isinstance(projects, errors.Unauthorized):
        return ProbeResult(False, problem=f"the API refused the token (HTTP {projects.status}): {projects.message}")
    for answer in (projects, datasets):
        if isinstance(answer, BaseException):
            raise answer
    result = ProbeResult(True)
    result.evidence.append("GET /tailored-gen/projects accepted the token")
    result.dialect = _from_datasets(datasets, result)
    if result.dialect is None:
        result.dialect = await _from_helpers(client, lists, result)
    if result.dialect is None and allow_throwaway:
        result.dialect = await _from_throwaway(client, result)
    if result.dialect is None and result.problem is None:
        result.problem = "the account's dialect could not be told from read-only calls; set api.dialect"
    return result


def _from_datasets(datasets: list[Mapping[str, Any]], result: ProbeResult) -> str | None:
    for dataset in datasets:
        if "training_version" in dataset:
            result.evidence.append(f"dataset {dataset.get('id')} carries a training_version (generation B)")
            return MIXED
    for dataset in datasets:
        if "caption_prefix" in dataset and "visual_schema" not in dataset:
            result.evidence.append(f"dataset {dataset.get('id')} has a caption_prefix and no visual_schema")
            return LEGACY
        if "visual_schema" in dataset and "caption_prefix" not in dataset:
            result.evidence.append(f"dataset {dataset.get('id')} has a visual_schema and no caption_prefix")
            return FIBO
    return None


async def _from_helpers(client: Any, reads: Any, result: ProbeResult) -> str | None:
    has_prefix, has_schema = await asyncio.gather(reads.endpoint_exists("POST", _PREFIX_HELPER),
                                                  reads.endpoint_exists("POST", _SCHEMA_HELPER))
    if not (has_prefix or has_schema):   # GETs told nothing: ask with empty POSTs
        has_prefix, has_schema = await asyncio.gather(
            client.endpoint_exists("POST", _PREFIX_HELPER, read_only=False),
            client.endpoint_exists("POST", _SCHEMA_HELPER, read_only=False))
    result.evidence.append(f"POST {_PREFIX_HELPER} {'exists' if has_prefix else 'is absent (404)'}")
    result.evidence.append(f"POST {_SCHEMA_HELPER} {'exists' if has_schema else 'is absent (404)'}")
    if has_prefix and not has_schema:
        return LEGACY
    if has_schema and not has_prefix:
        return FIBO
    if not (has_prefix or has_schema):
        result.problem = "neither caption helper endpoint exists: is this Bria's Tailored Generation API?"
    return None


async def _from_throwaway(client: Any, result: ProbeResult) -> str | None:
    name = f"{PROBE_PROJECT_PREFIX}{secrets.token_hex(4)}"
    project = await client.create_project(project_name=name, ip_medium="photography", ip_type="other",
                                          project_description="created and deleted by `bria probe`")
    record: dict[str, Any] = {"name": name, "id": project["id"], "deleted": False}
    result.throwaway_project = record
    try:
        try:
            dataset = await client.create_dataset(project["id"], name, family=FIBO_FAMILY)
        except errors.ValidationError as exc:
            result.evidence.append(f"a dataset with training_version fibo was refused (HTTP {exc.status})")
            return FIBO
        if "training_version" in dataset:
            result.evidence.append("a throwaway dataset came back with a training_version (generation B)")
            return MIXED
        result.evidence.append(f"a throwaway dataset came back as a {dataset_family(dataset)} dataset "
                               "without training_version")
        return FIBO
    finally:
        await client.delete_project(project["id"])
        record["deleted"] = True
        result.evidence.append(f"throwaway project {name} (id {project['id']}) deleted")


def unservable(dialect: str, wanted_families: Mapping[str, str]) -> list[str]:
    """The manifest's datasets (address → family) that an account of `dialect` cannot hold."""
    return [f"{address} is a {family} dataset ({'visual_schema' if family == FIBO_FAMILY else 'caption_prefix'})"
            for address, family in sorted(wanted_families.items()) if family not in families(dialect)]
