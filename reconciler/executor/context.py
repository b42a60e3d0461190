"""What every step of a run shares: the API, the door to it, the state holder, the
manifest, time, and the run's settings (`RunConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.api.protocol import BriaApi
from reconciler.executor.account import AccountView
from reconciler.executor.calls import ApiCalls
from reconciler.executor.clock import Clock
from reconciler.executor.holder import StateHolder
from reconciler.executor.progress import Reporter
from reconciler.model import Manifest

# 16: measured on 2 cores (benchmarks scenario p, 100 ms latency) 1.5x faster than 8; 32 was
# faster again without a rate limit but, under one, no faster and with twice the 429s of its
# opening burst (benchmarks/pacing_sim.py), and twice the calls left in doubt by a crash.
# Re-measured once an upload cost half the CPU (no longer CPU-bound at 64 on 2 cores): 8 4.05 s,
# 16 2.75 s, 32 2.08 s, 64 1.88 s without a limit — the reasons above still choose 16.
DEFAULT_PARALLELISM = 16


@dataclass(frozen=True)
class RunConfig:
    """How a run behaves. The CLI's `--parallelism`, `--poll-interval` and `--settle-window` land here and
    nowhere else; apply and the journal recovery before a plan share one RunConfig."""

    parallelism: int = DEFAULT_PARALLELISM   # API calls in flight at once (ApiCalls)
    poll_interval: float = 5.0               # seconds between status polls (captions, training)
    captions_timeout: float = 1800.0         # give up waiting for a regenerate-all after this long
    stop_timeout: float = 1800.0             # give up waiting for a model to leave Stopping after this long
    settle_window: float = 5.0               # seconds a lost create is looked for before it counts as not done
    kill_after_calls: int | None = None      # crash-test hook only (see calls.py)


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
