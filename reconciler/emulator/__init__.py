"""A local emulator of Bria's Tailored Generation training API, in three dialects
(legacy, mixed, fibo: `EmulatorConfig.dialect`).

Used in tests (in-process through `httpx.ASGITransport`), as a server (`bria emulator
serve`) and embedded (`api.endpoint: emulator`). It imports nothing from the reconciler
outside this package, so the contract between them is tested honestly.
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
