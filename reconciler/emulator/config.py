"""The emulator's knobs. Every knob is off (or realistic) by default."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

# Which generation of Bria's documented API the emulator speaks (see `dialects.py`).
DIALECTS = ("legacy", "mixed", "fibo")


ODD_REPLIES = (None, "redirect", "html", "truncated", "hang")


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulated API behaves beyond its business rules.

    Durations are in seconds, probabilities in [0, 1]. `rate_limit` is requests per minute
    per endpoint (method + route template) per organisation, enforced as a token bucket
    that refills `rate_limit / 60` tokens per second and holds at most `rate_burst`
    (default `max(1, rate_limit / 60)`), so a client that paces itself sees a smooth,
    measurable throughput; or, with `rate_window`, as a counter per minute.
    """

    training_seconds: float = 3600.0      # InProgress -> Completed/Failed after this long
    failure_rate: float = 0.0             # probability a training run ends Failed (decided at start)
    rate_limit: float | None = None       # requests/minute per endpoint per organisation; None = off
    rate_burst: float | None = None       # bucket capacity; None = max(1, rate_limit / 60)
    # Instead of a bucket, a fixed window: at most `rate_limit` requests per endpoint in each
    # minute (counted from the emulator's start), the counter reset at the minute's end —
    # the other common reading of "N requests per minute" (the docs do not say which).
    rate_window: bool = False
    retry_after: bool = False             # add a Retry-After header (whole seconds) to 429s
    latency_ms: float = 0.0               # added to every /v1 and /v2 request (404 and 405 included)
    fault_rate: float = 0.0               # probability of a 500/502/503 before anything is committed
    drop_rate: float = 0.0                # probability a successful mutation's connection drops
    captions_seconds: float = 2.0         # regenerate-all-captions runs this long
    stopping_seconds: float = 5.0         # Stopping -> Stopped after this long
    data_path: Path | str | None = None   # SQLite file; None = in memory
    tokens: tuple[str, ...] | None = None  # fixed accepted tokens; None = any non-empty token
    seed: int | None = None               # seeds failure, fault and drop decisions
    # Bodies beyond this are refused with 413 before they are held in memory. The contract
    # is silent; Bria documents 413 above 12 MB on other endpoints. 64 MiB leaves room for
    # any image a dataset would hold (base64 adds a third) while bounding memory.
    max_request_bytes: int = 64 * 1024 * 1024
    # Bria-wide (research: other Bria endpoints): an image above 12 MB is refused with 413.
    # Decimal megabytes, the stricter reading of "12 MB".
    max_image_bytes: int = 12_000_000
    # Faults where the docs are silent, each a plausible gateway/backend behaviour:
    late_commit_rate: float = 0.0         # answer 502/503/504 to a mutation, then commit it anyway…
    late_commit_delay: float = 2.0        # …this many seconds later
    garbled_rate: float = 0.0             # commit a mutation, then answer 2xx with an undecodable body
    soft_delete_models: bool = False      # DELETE model sets status "Deleted" and keeps it listed
    insufficient_data_on: tuple[str, ...] = ()   # operations ("POST /tailored-gen/models") answered 506
    # Answers a misconfigured endpoint or proxy gives, for every /v1 call (or only `odd_reply_on`):
    # "redirect" (302 to another host), "html" (200 with an HTML page), "truncated" (200 with
    # cut-off JSON), "hang" (never answers).
    odd_reply: str | None = None
    odd_reply_on: tuple[str, ...] = ()
    # Generation: a generated file (and a v2 async request) is ready this long after its
    # request; prompts holding one of these words are refused (422) when moderation is on.
    generation_seconds: float = 0.0
    moderation_words: tuple[str, ...] = ("nsfw",)
    dialect: str = "legacy"               # legacy | mixed | fibo (see dialects.py)

    def __post_init__(self) -> None:
        for name in ("failure_rate", "fault_rate", "drop_rate", "late_commit_rate", "garbled_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("training_seconds", "latency_ms", "captions_seconds", "stopping_seconds", "late_commit_delay",
                     "generation_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):   # NaN would compare false everywhere
                raise ValueError(f"{name} must be a finite number, not negative")
        if self.rate_limit is not None and not (math.isfinite(self.rate_limit) and self.rate_limit > 0):
            raise ValueError("rate_limit must be positive and finite (or None for no limit)")
        if self.rate_burst is not None and not (math.isfinite(self.rate_burst) and self.rate_burst >= 1):
            raise ValueError("rate_burst must be at least 1")
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, got {self.dialect!r}")
        if self.max_request_bytes < 1 or self.max_image_bytes < 1:
            raise ValueError("max_request_bytes and max_image_bytes must be positive")
        if self.odd_reply not in ODD_REPLIES:
            raise ValueError(f"odd_reply must be one of {', '.join(r for r in ODD_REPLIES if r)}")
        object.__setattr__(self, "insufficient_data_on", tuple(self.insufficient_data_on))
        object.__setattr__(self, "odd_reply_on", tuple(self.odd_reply_on))
        if self.tokens is not None:
            # Accept any iterable (e.g. a list from a CLI) but keep the frozen value hashable.
            object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "moderation_words", tuple(self.moderation_words))

    @property
    def bucket_capacity(self) -> float:
        if self.rate_limit is None:
            return 0.0
        if self.rate_burst is not None:
            return float(self.rate_burst)
        return max(1.0, self.rate_limit / 60.0)
