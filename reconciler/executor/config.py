"""The run's settings (`RunConfig`) and the default of `--parallelism`: what the CLI needs
from the executor before a run starts, importable without the executor's machinery."""

from __future__ import annotations

from dataclasses import dataclass

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
