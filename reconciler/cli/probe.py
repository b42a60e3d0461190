"""`bria probe`: which dialect the account speaks, whether the token works, and the rate
limiting its calls met — without touching anything the state manages."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import (EMULATOR_ENDPOINT, PRODUCTION_ENDPOINT, api_token, build_client, fail,
                                   load_manifest_or_exit, run_async)


def _client(manifest_file: str, endpoint: str | None) -> Any:
    """A client speaking the mixed dialect (so the probe may send anything it needs), for
    --endpoint, else env BRIA_API_URL / the manifest's api.endpoint / production."""
    import os

    from reconciler.api import BriaClient

    endpoint = (endpoint or os.environ.get("BRIA_API_URL") or "").strip()
    if not endpoint and Path(manifest_file).exists():
        return build_client(load_manifest_or_exit(manifest_file), dialect="mixed")
    endpoint = endpoint or PRODUCTION_ENDPOINT
    if endpoint == EMULATOR_ENDPOINT:
        fail("the embedded emulator needs a manifest (-f FILE with api.endpoint: emulator)", exitcodes.ERROR)
    return BriaClient(base_url=endpoint, token=api_token(endpoint), dialect="mixed")


async def _probe(client: Any, measure_rate: int) -> dict[str, Any]:
    from reconciler import probe

    async with client:
        result = await probe.detect(client)
        if result.token_ok:
            for _ in range(measure_rate):
                await client.list_projects()
        report = result.to_dict(client.stats)
        report["endpoint"] = client.base_url
        return report


def _human(report: dict[str, Any]) -> str:
    lines = [f"endpoint: {report['endpoint']}",
             f"token: {'accepted' if report['token_ok'] else 'REFUSED'}",
             f"dialect: {report['dialect'] or 'unknown'}"]
    lines += [f"  - {item}" for item in report["evidence"]]
    throwaway = report["throwaway_project"]
    if throwaway:
        lines.append(f"throwaway project: {throwaway['name']} (id {throwaway['id']}), "
                     f"{'deleted' if throwaway['deleted'] else 'NOT DELETED — delete it by hand'}")
    rate = report["rate_limit"]
    lines.append(f"rate limit: {rate['requests']} requests sent, {rate['rate_limited']} answered 429, "
                 f"{rate['retries']} retried (Bria documents no rate-limit headers: 10/min per endpoint "
                 "on the free trial, 60/min on Starter, 1000/min on Pro and Enterprise)")
    return "\n".join(lines)


@click.command("probe")
@click.option("-f", "--file", "manifest_file", default="bria.yaml", show_default=True, metavar="FILE",
              help="Manifest whose api.endpoint to probe (used only if it exists).")
@click.option("--endpoint", help="API base URL to probe (default: BRIA_API_URL, the manifest's, or production).")
@click.option("--format", "fmt", type=click.Choice(["human", "json"]), default="human", show_default=True)
@click.option("--measure-rate", type=click.IntRange(0, 200), default=0, show_default=True,
              help="Also send this many GET /tailored-gen/projects at once and report the 429s (costs quota).")
def probe_command(manifest_file: str, endpoint: str | None, fmt: str, measure_rate: int) -> None:
    """Which API dialect the account speaks (legacy, mixed or fibo), whether the token works,
    and what rate limiting the calls met.

    Read-only calls where they suffice; otherwise one throwaway project named bria-probe-…,
    deleted at once. Exit 0 when the dialect is known, 1 on a bad token or when it is not."""
    from reconciler.api import ApiError

    try:
        report = run_async(_probe(_client(manifest_file, endpoint), measure_rate))
    except ApiError as exc:
        fail(f"probe failed: {exc}", exitcodes.ERROR)
    click.echo(json.dumps(report, indent=2) if fmt == "json" else _human(report))
    if not report["token_ok"] or report["dialect"] is None:
        click.echo(f"Error: {report['problem']}", err=True)
        sys.exit(exitcodes.ERROR)


COMMANDS = [probe_command]
