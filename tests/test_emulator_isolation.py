"""The emulator imports nothing from the reconciler outside `reconciler.emulator`, so the
contract between client and emulator is tested honestly."""

from __future__ import annotations

import ast
import pathlib

import reconciler.emulator

EMULATOR_DIR = pathlib.Path(reconciler.emulator.__file__).parent


def imported_modules(path: pathlib.Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            names.append(node.module or "")
    return names


def test_emulator_imports_only_itself_from_the_reconciler():
    files = sorted(EMULATOR_DIR.glob("*.py"))
    assert len(files) > 5
    for path in files:
        for name in imported_modules(path):
            if name == "reconciler" or name.startswith("reconciler."):
                assert name.startswith("reconciler.emulator"), f"{path.name} imports {name}"
