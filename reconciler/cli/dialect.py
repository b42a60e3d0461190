"""The API dialect for a run that changes things (`bria apply`): configured, or detected
the way `bria probe` does; a manifest the account cannot serve is refused before any change.
"""

from __future__ import annotations

from typing import Any

from reconciler.cli.common import resolve_dialect
from reconciler.model import Manifest


def will_probe(manifest: Manifest) -> bool:
    """Whether `settle_dialect` detects the dialect: none is configured and the manifest has
    datasets (nothing else is dialect-specific)."""
    return resolve_dialect(manifest) is None and bool(manifest.datasets)


def probe_helper_paths(manifest: Manifest) -> tuple[str, ...]:
    """The endpoints whose existence the probe may ask about, when it will run: for
    `FirstReads.start` to ask with the first list calls."""
    if not will_probe(manifest):
        return ()
    from reconciler.probe import HELPER_PATHS

    return HELPER_PATHS


async def settle_dialect(client: Any, manifest: Manifest, lists: Any = None) -> tuple[str | None, str | None]:
    """Set `client.dialect`; returns (why the run must stop or None, a note for the user:
    the detected dialect and its evidence, or None when it was configured). `lists`: the
    run's shared list calls (`cli.first_reads.FirstReads`), if any."""
    from reconciler import probe

    dialect = resolve_dialect(manifest)
    how = "configured (api.dialect or BRIA_API_DIALECT)"
    note = None
    if dialect is None and not manifest.datasets:
        return None, None   # nothing dialect-specific to send (e.g. `bria destroy`): no probing
    if will_probe(manifest):
        result = await probe.detect(client, lists=lists)
        if result.throwaway_project is not None and lists is not None:
            lists.shareable = False       # the lists were read before the throwaway project
        if result.dialect is None:
            return result.problem or "the account's API dialect could not be detected; set api.dialect", None
        dialect, how = result.dialect, f"detected: {result.explanation()}"
        note = f"API dialect: {dialect} ({how}; set api.dialect to skip this)"
    client.dialect = dialect
    problems = probe.unservable(dialect, {d.address: d.family for d in manifest.datasets.values()})
    if problems:
        return (f"the account speaks the {dialect} dialect of the API ({how}), which cannot serve this "
                f"manifest: {'; '.join(problems)}. A {dialect} account has "
                + {"legacy": "caption_prefix datasets only", "fibo": "visual_schema datasets only"}.get(dialect, "")
                + " — change those datasets, or set api.dialect if the detection is wrong"), note
    return None, note
