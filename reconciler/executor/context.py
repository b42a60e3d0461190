"""What every step of a run shares: the API, the door to it, the state holder, the
manifest, time, and the run's settings (`RunConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.api.protocol import BriaApi
from reconciler.executor.account import AccountView
from reconciler.executor.calls import ApiCalls
from reconciler.executor.clock import Clock
from reconciler.executor.config import DEFAULT_PARALLELISM, RunConfig  # noqa: F401 (re-exported)
from reconciler.executor.holder import StateHolder
from reconciler.executor.progress import Reporter
from reconciler.model import Manifest


@dataclass
class RunContext:
    api: BriaApi                       # what is called; always through `calls(api.method, …)`
    calls: ApiCalls
    holder: StateHolder
    manifest: Manifest | None
    clock: Clock
    reporter: Reporter
    config: RunConfig = field(default_factory=RunConfig)
    fatal: str | None = None           # set when state cannot be saved: the run stops at once
    account: AccountView = field(default_factory=AccountView)   # what the account held (watermarks)

    @property
    def poll_interval(self) -> float:
        return self.config.poll_interval
