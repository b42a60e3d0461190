"""What every step of a run shares: the API door, the state holder, the manifest, time."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.executor.account import AccountView
from reconciler.executor.calls import ApiCalls
from reconciler.executor.clock import Clock
from reconciler.executor.holder import StateHolder
from reconciler.executor.progress import Reporter
from reconciler.model import Manifest


@dataclass
class RunContext:
    calls: ApiCalls
    holder: StateHolder
    manifest: Manifest | None
    clock: Clock
    reporter: Reporter
    poll_interval: float = 5.0          # seconds between status polls (captions, training)
    captions_timeout: float = 1800.0    # give up waiting for regenerate-all / a stop after this long
    fatal: str | None = None            # set when state cannot be saved: the run stops at once
    settle_window: float = 5.0          # seconds a lost create is looked for before it counts as not done
    account: AccountView = field(default_factory=AccountView)   # what the account held (watermarks)
