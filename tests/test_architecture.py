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
    ("diagnostics", "textsafe", "limits", "schema_checks", "lazy"),
    ("reasons", "stepargs", "identity", "status"),
    ("model",),
    ("state.model", "state.store", "state.codec", "state.changes", "state.changefile"),
    ("state.local", "state.locking", "state.postgres", "state"),
    ("yamlsource", "image_cache", "image_checks", "image_workers", "images", "json_captions", "dataset_images", "schema_errors", "samples_spec",
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


def _mutating_methods() -> frozenset[str]:
    from reconciler.api.protocol import MUTATING
    return MUTATING


def test_protocol_lists_every_mutating_method_and_the_client_implements_it() -> None:
    import inspect

    from reconciler.api.client import BriaClient
    from reconciler.api.protocol import BriaApi

    declared = {n for n, v in vars(BriaApi).items() if inspect.iscoroutinefunction(v)}
    assert _mutating_methods() <= declared
    for name in declared:
        ours, theirs = inspect.signature(getattr(BriaApi, name)), inspect.signature(getattr(BriaClient, name))
        assert list(ours.parameters) == list(theirs.parameters), f"BriaClient.{name} differs from BriaApi.{name}"


def _mutating_attributes(tree: ast.AST) -> list[ast.Attribute]:
    """Every `x.<mutating method>` — a call `client.delete_model(…)` as much as a bound
    method handed on, `ctx.calls(ctx.api.delete_model, …)`."""
    mutating = _mutating_methods()
    return [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in mutating]


def test_only_the_executor_and_cli_mutate_through_the_client() -> None:
    """Mutating API methods are reached only from the executor (and CLI wiring), including
    bound methods passed to ApiCalls — and by the probe for its throwaway project."""
    offenders = []
    for module, path in _modules():
        # probe: its one throwaway project, created and deleted at once (never a managed object).
        if module.startswith(("executor", "api", "emulator", "cli")) or module == "probe":
            continue
        offenders += [f"{module}:{n.lineno}: {n.attr}" for n in _mutating_attributes(ast.parse(path.read_text()))]
    assert not offenders, offenders


def test_the_executor_mutates_only_through_api_calls() -> None:
    """In the executor every mutating method is `ctx.api.<m>` handed to `ctx.calls(…)` (or
    to a helper that does), never awaited directly, and no client method is looked up by name."""
    seen = 0
    for module, path in _modules():
        if not module.startswith("executor"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                target = ast.unparse(node.args[0]) if node.args else ""
                assert "client" not in target and "api" not in target, f"{module}:{node.lineno}: getattr on the API"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in _mutating_methods():
                pytest.fail(f"{module}:{node.lineno}: {ast.unparse(node.func)}(…) bypasses ctx.calls")
        for attr in _mutating_attributes(tree):
            assert ast.unparse(attr.value) == "ctx.api", f"{module}:{attr.lineno}: {ast.unparse(attr)} is not ctx.api"
            seen += 1
    assert seen >= len(_mutating_methods()) - 1, "the executor's mutating calls were not found"


# Generating images (`bria sample`) is NOT a managed mutation: it creates nothing bria plans,
# records or destroys, and writes no state, so it is deliberately not in MUTATING and
# `sampling/` calls the client directly (never through the executor's ApiCalls).
GENERATION = frozenset({"generate_legacy", "generate_fibo", "download_generated"})


def test_generation_is_not_a_managed_mutation() -> None:
    from reconciler.api.client import BriaClient

    assert not GENERATION & _mutating_methods(), "generation is not a managed mutation"
    assert all(callable(getattr(BriaClient, name, None)) for name in GENERATION)
    used = set()
    for module, path in _modules():
        attrs = {n.attr for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Attribute)}
        if module.startswith("executor") or module.startswith("planner"):
            assert not attrs & GENERATION, f"reconciler.{module} generates images: only sampling/ may"
        if module.startswith("sampling"):
            used |= attrs & GENERATION
            assert not attrs & _mutating_methods(), f"reconciler.{module} mutates the API"
    assert used, "sampling/ no longer generates: update GENERATION"


def test_the_cli_opens_the_state_only_through_state_session() -> None:
    """One way to open, lock and close the state (cli/session.py), used by every command."""
    openers = []
    for module, path in _modules():
        if not module.startswith("cli") or module == "cli.session":
            continue
        tree = ast.parse(path.read_text())
        openers += [f"{module}:{n.lineno}" for n in ast.walk(tree) if isinstance(n, ast.Call)
                    and ast.unparse(n.func).split(".")[-1] in {"open_store", "LocalStateStore", "PostgresStateStore"}
                    and not (n.args and ast.unparse(n.args[0]) == "source")]   # `state push FILE` reads a file
    assert not openers, openers
