"""The CLI imports only what a command uses (no timing here: what is imported is checked,
which is what makes `bria --help` and `bria validate` fast; benchmarks/ measures time)."""

from __future__ import annotations

import json
import subprocess
import sys

import click

HEAVY = ("httpx", "starlette", "rich", "jsonschema", "reconciler.executor", "reconciler.emulator", "psycopg")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules)


def test_importing_the_cli_and_printing_help_imports_no_command_module() -> None:
    modules = _modules_after("import reconciler.cli\n"
                             "try:\n    reconciler.cli.main(['--help'])\nexcept SystemExit:\n    pass")
    from reconciler import cli

    assert _loaded(modules, HEAVY) == []
    assert _loaded(modules, tuple(f"reconciler.cli.{module}" for module, _ in cli._COMMANDS.values())) == []
    assert _loaded(modules, ("reconciler.model", "reconciler.stepargs", "yaml")) == []   # ~25 ms of --help's 60


def test_help_lists_every_command_with_its_own_summary() -> None:
    """The summaries `--help` prints without importing the commands are the commands' own."""
    from reconciler import cli

    cli._register(None)
    assert set(cli._COMMANDS) == set(cli.main.commands)
    every_defined = {command.name for module in _command_modules() for command in importlib_commands(module)}
    assert every_defined == set(cli._COMMANDS), "a command module's commands missing from cli._COMMANDS"
    for name, command in cli.main.commands.items():
        module, summary = cli._COMMANDS[name]
        assert command in importlib_commands(module), name
        for limit in (30, 60, 94, 200):
            assert click.Command(name, help=summary).get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)


def _command_modules() -> list[str]:
    """Every reconciler.cli module that defines commands, found by listing the package (not
    by the table under test, which would hide a module missing from it)."""
    import importlib
    import pkgutil

    from reconciler import cli

    names = [info.name for info in pkgutil.iter_modules(cli.__path__)]
    return [name for name in names if hasattr(importlib.import_module(f"reconciler.cli.{name}"), "COMMANDS")]


def importlib_commands(module: str) -> list[click.Command]:
    import importlib

    return importlib.import_module(f"reconciler.cli.{module}").COMMANDS


def test_validate_imports_no_http_client_nor_emulator(tmp_path) -> None:
    (tmp_path / "bria.yaml").write_text("version: 1\nprojects:\n  p:\n    name: P\n    ip_type: other\n"
                                        "    ip_medium: photography\n")
    modules = _modules_after("import os, sys\n"
                             f"os.chdir({str(tmp_path)!r})\nsys.argv = ['bria', 'validate']\n"
                             "import reconciler.cli\n"
                             "try:\n    reconciler.cli.main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code")
    assert _loaded(modules, ("httpx", "starlette", "rich", "reconciler.emulator", "reconciler.executor",
                             "psycopg", "jsonschema")) == []     # a valid manifest: schema_checks/ only


def test_the_api_client_does_not_import_httpx_command_line_dependencies() -> None:
    modules = _modules_after("import reconciler.api.client")
    assert "httpx" in modules and _loaded(modules, ("rich", "pygments")) == []


def test_the_api_error_tree_imports_no_http_client() -> None:
    """`bria apply` imports the error tree with its command (cli/apply.py) and httpx beside
    the manifest check (REQUEST_MODULES): the package must not import the client eagerly."""
    modules = _modules_after("from reconciler.api import errors\nfrom reconciler.api import ApiError")
    assert _loaded(modules, ("httpx", "httpcore", "reconciler.api.client")) == []


def test_loading_code_imports_no_schema_validator_before_images_are_being_read() -> None:
    """jsonschema (~48 ms) is imported only for a document the generated pre-checks do not
    accept (inside `load_manifest`, after the image reads started; the state codec on use)."""
    modules = _modules_after("import reconciler.manifest, reconciler.state.local, reconciler.images")
    assert _loaded(modules, ("jsonschema", "PIL", "httpx")) == []


def test_apply_imports_the_planner_executor_and_rich_only_after_its_first_requests() -> None:
    """`bria apply` sends its first list calls before importing the planner, the executor's
    machinery, the plan view and rich (~50 ms), so that importing them overlaps the round
    trip (cli/apply.py `_import_planning_modules`): the command module must not import them."""
    modules = _modules_after("import reconciler.cli.apply")
    assert _loaded(modules, ("reconciler.planner", "reconciler.executor.run", "reconciler.executor.steps",
                             "reconciler.render", "reconciler.refresh", "rich")) == []
    assert "reconciler.executor.config" in modules      # --parallelism's default


def test_validate_opens_pillow_only_for_images_it_must_read(tmp_path) -> None:
    """Plain JPEGs are checked without Pillow (~10 ms to import), and cached images are not
    opened at all."""
    from fixtures_manifest import image_bytes

    (tmp_path / "images").mkdir()
    for i in range(3):
        (tmp_path / "images" / f"{i}.jpg").write_bytes(image_bytes(600, 600, "JPEG", seed=str(i)))
    (tmp_path / "bria.yaml").write_text("version: 1\nprojects:\n  p:\n    name: P\n    ip_type: other\n"
                                        "    ip_medium: photography\ndatasets:\n  d:\n    project: p\n    name: D\n"
                                        "    images:\n      - folder: images\n")
    validate = ("import os, sys\n"
                f"os.chdir({str(tmp_path)!r})\nsys.argv = ['bria', 'validate']\n"
                "import reconciler.cli\n"
                "try:\n    reconciler.cli.main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code")
    assert _loaded(_modules_after(validate), ("PIL",)) == []        # plain JPEGs: no Pillow at all
    (tmp_path / "images" / "3.png").write_bytes(image_bytes(600, 600, "PNG", seed="3"))
    assert "PIL.PngImagePlugin" in _modules_after(validate)          # a PNG is verified by Pillow
    assert _loaded(_modules_after(validate), ("PIL",)) == []          # all four from the cache now


def test_an_apply_against_a_url_imports_no_other_views(tmp_path, emulator_server) -> None:
    """An apply imports no plan view but the human one, no emulator, no sampling or
    thumbnails, no PostgreSQL driver for a local state."""
    from tests.fixtures_emulator import make_png

    base_url = emulator_server()
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(make_png(seed=3))
    (tmp_path / "bria.yaml").write_text(
        f"version: 1\napi:\n  endpoint: {base_url}\n  dialect: legacy\nprojects:\n  p:\n    name: P\n"
        "    ip_type: other\n    ip_medium: photography\ndatasets:\n  d:\n    project: p\n    name: D\n"
        "    images:\n      - folder: img\n    complete: true\n")
    modules = _modules_after("import os, sys\n"
                             f"os.chdir({str(tmp_path)!r})\nos.environ['BRIA_API_TOKEN'] = 'lazy-apply'\n"
                             "os.environ.pop('FORCE_COLOR', None); os.environ.pop('TTY_COMPATIBLE', None)\n"
                             "sys.argv = ['bria', 'apply', '--auto-approve', '--no-wait']\n"
                             "import reconciler.cli\n"
                             "try:\n    reconciler.cli.main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code")
    assert "reconciler.executor" in modules        # it did apply
    assert _loaded(modules, ("starlette", "reconciler.emulator", "reconciler.render.html",
                             "reconciler.render.markdown", "reconciler.sampling", "reconciler.thumbnails",
                             "psycopg")) == []


def test_a_plan_run_in_process_leaves_the_garbage_collector_as_it_found_it(tmp_path) -> None:
    """`bria plan` runs with the cyclic collector off and restores it (click's test runner,
    or any embedding, runs commands in-process)."""
    import gc

    from click.testing import CliRunner

    from reconciler.cli import main

    (tmp_path / "bria.yaml").write_text("version: 1\napi:\n  endpoint: emulator\nprojects:\n  p:\n    name: P\n"
                                        "    ip_type: other\n    ip_medium: photography\n")
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["plan", "-f", str(tmp_path / "bria.yaml")], env={"BRIA_API_TOKEN": "t"})
    assert result.exit_code == 0, result.output
    assert gc.isenabled()


def test_a_bria_process_skips_the_collections_of_interpreter_exit() -> None:
    """`bria` freezes the collector's objects when the interpreter exits (cli/__init__.py):
    atexit runs handlers last-registered first, so one registered before the command runs
    after bria's and sees the objects frozen."""
    import subprocess
    import sys

    code = ("import atexit, gc, sys, runpy\n"
            "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count() > 0}'))\n"
            "sys.argv = ['bria', '--version']\n"
            "runpy.run_module('reconciler', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("frozen=True")
