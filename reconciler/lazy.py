"""Package attributes imported on first use (PEP 562), for packages whose `__init__` must
stay cheap: `from reconciler.api import errors` must not import httpx, nor
`from reconciler.executor import RunConfig` the executor."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports each name in `exports` (name →
    submodule) from its submodule when it is first asked for. Other names raise
    AttributeError, so `from package import submodule` still imports the submodule."""
    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
