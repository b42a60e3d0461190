"""Shared pytest wiring.

Fixtures live in `tests/fixtures_<area>.py` modules (one per area, owned by that area's
tests); they are imported here so that every test module can use them.
"""

from __future__ import annotations

import importlib
import pathlib
import sys

_HERE = pathlib.Path(__file__).parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

for _file in sorted(_HERE.glob("fixtures_*.py")):
    _module = importlib.import_module(_file.stem)
    globals().update({k: v for k, v in vars(_module).items() if not k.startswith("_")})
