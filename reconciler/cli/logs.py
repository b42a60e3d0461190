"""`BRIA_LOG=debug|info|warning`: diagnostic logging to stderr, like Terraform's TF_LOG.

Off by default. When on, every record from any logger (bria's own, httpx, httpcore) passes
through the client's redacting filter on the *handler*, so a registered API token never
reaches the terminal or a CI log, whichever library logged it.
"""

from __future__ import annotations

import logging
import os
import sys

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_from_env() -> str | None:
    """Set up stderr logging from BRIA_LOG; returns a problem message for a bad value."""
    wanted = os.environ.get("BRIA_LOG", "").strip().lower()
    if not wanted or wanted == "off":
        return None
    level = LEVELS.get(wanted)
    if level is None:
        return f"BRIA_LOG={wanted!r} is not one of {', '.join(LEVELS)} or off; logging stays off"
    from reconciler.api.redaction import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return None
