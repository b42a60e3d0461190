"""The module layering of docs/architecture.md, enforced with `ast`.

A module may import only from modules above it in the layer list; the planner stays pure
(no I/O libraries), only the executor and the CLI touch the API client for mutations, and
the emulator imports nothing from the reconciler.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"

# Lower index = lower layer. A module in layer N may import from layers <= N only.
LAYERS: list[tuple[str, ...]] = [
    ("diagnostics", "textsafe", "limits"),
    ("model",),
    ("state.model", "state.store", "state.codec"),
    ("state.local", "state.locking", "state.postgres", "state"),
    ("yamlsource", "image_cache", "images", "json_captions", "dataset_images", "schema_errors", "samples_spec",
     "thumbnails"),
    ("manifest", "manifest_blocks"),
    ("api",),
    ("refresh", "graph", "probe"),
    ("planner",),
    ("executor",),
    ("sampling", "caption_sync"),
    ("render",),
    ("cli", "__main__"),
]

# Modules whose import would mean I/O or wall-clock access inside the pure planner.
IMPURE_FOR_PLANNER = {"httpx", "os", "time", "datetime", "socket", "subprocess", "pathlib.Path.read_bytes",
                      "reconciler.api", "reconciler.executor", "reconciler.state.local",
                      "reconciler.state.postgres", "reconciler.refresh", "psycopg", "random"}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None   # (prefix length, layer)
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    return None if best is None else best[1]


@pytest.mark.parametrize("module,path", [m for m in _modules() if m[0] and not m[0].startswith("emulator")],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_module_imports_only_from_layers_above(module: str, path: Path) -> None:
    own = _layer_of(module)
    if own is None:
        pytest.fail(f"reconciler.{module} is not placed in a layer of docs/architecture.md; add it to LAYERS")
    bad = []
    for name in _imports(path):
        if not name.startswith("reconciler."):
            continue
        target = name.removeprefix("reconciler.")
        if target.startswith("emulator"):
            if not module.startswith("cli"):
                bad.append(f"{name} (only the CLI may embed the emulator)")
            continue
        layer = _layer_of(target)
        if layer is not None and layer > own:
            bad.append(f"{name} (layer {layer} > {own})")
    assert not bad, f"reconciler.{module} imports from a higher layer: {bad}"


def test_planner_is_pure() -> None:
    planner_files = [p for m, p in _modules() if m == "planner" or m.startswith("planner.")]
    assert planner_files, "planner module not found"
    for path in planner_files:
        found = {name for name in _imports(path) if name in IMPURE_FOR_PLANNER
                 or any(name.startswith(f"{x}.") for x in IMPURE_FOR_PLANNER)}
        assert not found, f"{path.name} imports I/O or clock modules: {sorted(found)}"


def test_emulator_imports_nothing_from_the_reconciler() -> None:
    for module, path in _modules():
        if not module.startswith("emulator"):
            continue
        leaks = {n for n in _imports(path) if n.startswith("reconciler.") and not n.startswith("reconciler.emulator")}
        assert not leaks, f"reconciler.{module} imports {sorted(leaks)}"


def test_only_the_executor_and_cli_mutate_through_the_client() -> None:
    """Mutating client methods are called only from the executor (and CLI wiring), and by
    the probe for its throwaway project."""
    mutating = {"create_project", "update_project", "delete_project", "create_dataset", "update_dataset",
                "delete_dataset", "clone_dataset", "upload_image", "set_image_caption",
                "regenerate_image_caption", "regenerate_all_captions", "delete_image", "create_model",
                "update_model", "delete_model", "start_training", "stop_training", "delete_checkpoint"}
    offenders = []
    for module, path in _modules():
        # probe: its one throwaway project, created and deleted at once (never a managed object).
        if module.startswith(("executor", "api", "emulator", "cli")) or module == "probe":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in mutating and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in {"client", "api", "self_client"}):
                offenders.append(f"{module}: {node.func.attr}")
    assert not offenders, offenders
