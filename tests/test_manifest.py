"""load_manifest(): specs, defaults, digest, positions, and how problems are reported."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fixtures_manifest import EXAMPLES, write_image

from reconciler.diagnostics import Severity
from reconciler.manifest import load_manifest
from reconciler.model import Manifest
from reconciler.schema_errors import load_schema
from reconciler.yamlsource import load_yaml

PROJECT = """\
version: 1
projects:
  luna:
    name: Luna
    ip_type: defined_character
    ip_medium: illustration
    ip_name: Luna
    ip_description: girl with blue hair
"""


def write_manifest(folder: Path, text: str, name: str = "bria.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_ok(path: Path) -> Manifest:
    manifest, diagnostics = load_manifest(path)
    assert manifest is not None, "\n".join(map(str, diagnostics))
    return manifest


def errors_of(path: Path) -> list[str]:
    manifest, diagnostics = load_manifest(path)
    assert manifest is None
    return [str(d) for d in diagnostics if d.severity is Severity.ERROR]


@pytest.fixture
def luna(tmp_path: Path) -> Path:
    """A valid manifest: folder of 3 images (one with a sidecar), one inline-captioned file."""
    for i, fmt in enumerate(("PNG", "JPEG", "WEBP")):
        write_image(tmp_path / "images" / f"luna_{i}.{fmt.lower()}", 300, 320, fmt)
    (tmp_path / "images" / "luna_0.txt").write_text("  standing, full body \n", encoding="utf-8")
    write_image(tmp_path / "extra" / "wave.png", 400, 400)
    (tmp_path / "extra" / "wave.txt").write_text("sidecar loses to inline", encoding="utf-8")
    return write_manifest(tmp_path, PROJECT + """\
datasets:
  luna_v1:
    project: luna
    name: Luna set
    caption_prefix: auto
    images:
      - folder: images
      - file: extra/wave.png
        caption: waving
models:
  luna_max:
    dataset: luna_v1
    name: Luna max
""")


def test_specs_and_defaults(luna: Path) -> None:
    manifest = load_ok(luna)
    root = luna.parent.resolve()
    assert manifest.path == root / "bria.yaml" and manifest.root == root
    assert manifest.api_endpoint is None
    assert manifest.state.backend == "local"
    assert manifest.state.path == root / "state" / "bria.json"
    assert manifest.emulator.training_seconds == 120.0
    project = manifest.projects["luna"]
    assert (project.ip_type, project.ip_medium, project.ip_name) == ("defined_character", "illustration", "Luna")
    assert project.source is not None and project.source.line == 3
    dataset = manifest.datasets["luna_v1"]
    assert dataset.caption_prefix == "auto" and dataset.increase_resolution and dataset.complete
    assert [i.rel_path for i in dataset.images] == [
        "images/luna_0.png", "images/luna_1.jpeg", "images/luna_2.webp", "extra/wave.png"]
    assert [i.format for i in dataset.images] == ["PNG", "JPEG", "WEBP", "PNG"]
    assert [(i.caption, i.caption_origin) for i in dataset.images] == [
        ("standing, full body", "sidecar"), (None, None), (None, None), ("waving", "inline")]
    first = dataset.images[0]
    assert first.path == root / "images" / "luna_0.png" and (first.width, first.height) == (300, 320)
    assert first.image_name == f"{first.sha256[:16]}-luna_0.png"
    assert first.size == first.path.stat().st_size
    assert first.source is not None and first.source.line == 15
    model = manifest.models["luna_max"]
    assert (model.training_version, model.training_mode, model.train) == ("max", "fully_automated", True)
    assert dict(model.training_parameters) == {}


def test_api_state_and_expert_fields(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 1024, 1024)
    path = write_manifest(tmp_path, PROJECT + """\
api:
  endpoint: https://engine.example.com/v1
  emulator: {training_seconds: 0.5}
state:
  backend: postgres
  path: ../elsewhere/s.json
  dsn_env: TEAM_DSN
  workspace: prod
datasets:
  d:
    project: luna
    name: D
    increase_resolution: false
    complete: false
    caption_prefix: "An illustration of Luna, "
    images: [{file: a.png}]
models:
  m:
    dataset: d
    name: M
    description: expert one
    training_version: bria-3.2
    training_mode: expert
    train: false
    training_parameters: {learning_rate: 0.0001, total_training_steps: 1000, rank: 64,
                          lr_scheduler: constant_with_warmup, checkpoint_interval: 500,
                          lr_warmup_steps: 100}
""", name="team.yaml")
    manifest = load_ok(path)
    assert manifest.api_endpoint == "https://engine.example.com/v1"
    assert manifest.emulator.training_seconds == 0.5
    assert manifest.state.backend == "postgres" and manifest.state.dsn_env == "TEAM_DSN"
    assert manifest.state.workspace == "prod"
    assert manifest.state.path.resolve() == (tmp_path / "../elsewhere/s.json").resolve()
    d = manifest.datasets["d"]
    assert (d.increase_resolution, d.complete, d.caption_prefix) == (False, False, "An illustration of Luna, ")
    m = manifest.models["m"]
    assert (m.training_version, m.training_mode, m.train, m.description) == ("bria-3.2", "expert", False, "expert one")
    assert m.training_parameters["rank"] == 64 and m.training_parameters["lr_warmup_steps"] == 100


def test_default_state_path_uses_manifest_stem(tmp_path: Path) -> None:
    manifest = load_ok(write_manifest(tmp_path, "version: 1\n", name="prod.yaml"))
    assert manifest.state.path == tmp_path.resolve() / "state" / "prod.json"
    assert manifest.projects == {} and manifest.datasets == {} and manifest.models == {}


def test_digest_ignores_file_names_and_order_but_not_content(luna: Path) -> None:
    before = load_ok(luna).digest
    images = luna.parent / "images"
    (images / "luna_1.jpeg").rename(images / "zz_renamed.jpeg")
    (images / "luna_0.png").rename(images / "a_first.png")
    (images / "luna_0.txt").rename(images / "a_first.txt")
    assert load_ok(luna).digest == before
    (images / "a_first.txt").write_text("a different caption", encoding="utf-8")
    changed_caption = load_ok(luna).digest
    assert changed_caption != before
    write_image(images / "luna_2.webp", 300, 320, "WEBP", seed="new pixels")
    assert load_ok(luna).digest not in (before, changed_caption)


def test_digest_follows_model_and_project_fields(luna: Path) -> None:
    before = load_ok(luna).digest
    luna.write_text(luna.read_text().replace("name: Luna max", "name: Luna max 2"))
    after_model = load_ok(luna).digest
    luna.write_text(luna.read_text().replace("girl with blue hair", "girl with red hair"))
    assert len({before, after_model, load_ok(luna).digest}) == 3


def test_empty_sidecar_means_no_caption_and_recursive_folders(tmp_path: Path) -> None:
    write_image(tmp_path / "imgs" / "B.PNG", 300, 300)
    write_image(tmp_path / "imgs" / "a.JpG", 300, 300, "JPEG")
    write_image(tmp_path / "imgs" / "sub" / "c.webp", 300, 300, "WEBP")
    write_image(tmp_path / "imgs" / ".hidden.png", 300, 300)
    (tmp_path / "imgs" / "a.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "imgs" / "notes.md").write_text("not an image", encoding="utf-8")
    dataset = "datasets:\n  d:\n    project: luna\n    name: D\n    images: [{folder: imgs%s}]\n"
    flat = load_ok(write_manifest(tmp_path, PROJECT + dataset % ""))
    assert [i.rel_path for i in flat.datasets["d"].images] == ["imgs/B.PNG", "imgs/a.JpG"]
    assert flat.datasets["d"].images[1].caption is None
    deep = load_ok(write_manifest(tmp_path, PROJECT + dataset % ", recursive: true"))
    assert [i.rel_path for i in deep.datasets["d"].images] == ["imgs/B.PNG", "imgs/a.JpG", "imgs/sub/c.webp"]


def test_merge_keys_and_anchors_are_expanded(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 300, 300)
    manifest = load_ok(write_manifest(tmp_path, PROJECT + """\
datasets:
  d: {project: luna, name: D, images: [{file: a.png}]}
models:
  base: &model_defaults
    name: Base
    dataset: d
    training_version: light
  other:
    <<: *model_defaults
    name: Other
"""))
    assert manifest.models["other"].training_version == "light"
    assert manifest.models["other"].name == "Other" and manifest.models["base"].name == "Base"


def test_all_problems_are_reported_at_once_without_cascades(tmp_path: Path) -> None:
    """One schema error in a project must not turn into 'unknown project' for its datasets,
    and errors in several resources and passes all come back together, in file order."""
    write_image(tmp_path / "small.png", 100, 100)
    path = write_manifest(tmp_path, """\
version: 1
projects:
  luna:
    name: Luna
    ip_type: wizard
    ip_medium: illustration
datasets:
  d:
    project: luna
    name: D
    images: [{file: small.png}]
models:
  m: {dataset: d, name: M, training_mode: expert, training_parameters: {rank: 1}}
  n: {dataset: nope, name: N}
""")
    errors = errors_of(path)
    assert len(errors) == 4, errors
    assert "bria.yaml:5:5: error: $.projects.luna.ip_type:" in errors[0]
    assert "bria.yaml:11:15: error: $.datasets.d.images[0].file: small.png is 100×100" in errors[1]
    assert "bria.yaml:13:" in errors[2] and "$.models.m.training_parameters.rank: must be between 4 and 256" in errors[2]
    assert "bria.yaml:14:" in errors[3] and "unknown dataset 'nope'" in errors[3]


def test_file_name_is_reported_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    write_manifest(tmp_path / "sub", "version: 1\nprojects: 3\n")
    monkeypatch.chdir(tmp_path)
    manifest, diagnostics = load_manifest(Path("sub/bria.yaml"))
    assert manifest is None
    assert str(diagnostics[0]).startswith("sub/bria.yaml:2:1: error: $.projects: must be a mapping")


def test_missing_manifest_file(tmp_path: Path) -> None:
    manifest, diagnostics = load_manifest(tmp_path / "nope.yaml")
    assert manifest is None and "no such file" in str(diagnostics[0])
    assert str(tmp_path / "nope.yaml") in str(diagnostics[0])


def test_warnings_do_not_block(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 300, 300)
    path = write_manifest(tmp_path, PROJECT + """\
datasets:
  d: {project: luna, name: D, images: [{file: a.png}]}
models:
  m:
    dataset: d
    name: M
    training_mode: expert
    training_parameters: {lr_scheduler: cosine, lr_warmup_steps: 10}
""")
    manifest, diagnostics = load_manifest(path)
    assert manifest is not None
    assert [d.severity for d in diagnostics] == [Severity.WARNING]
    assert "lr_warmup_steps is only used with lr_scheduler: constant_with_warmup" in str(diagnostics[0])


@pytest.mark.parametrize("example", ["luna", "icons"])
def test_examples_are_valid(example: str) -> None:
    manifest, diagnostics = load_manifest(EXAMPLES / example / "bria.yaml")
    assert manifest is not None and diagnostics == []
    assert manifest.api_endpoint == "emulator"


def test_luna_example_matches_its_brief() -> None:
    manifest = load_ok(EXAMPLES / "luna" / "bria.yaml")
    (dataset,) = manifest.datasets.values()
    assert manifest.projects["luna"].ip_type == "defined_character" and dataset.caption_prefix == "auto"
    assert len(dataset.images) >= 16 and all(min(i.width, i.height) >= 1024 for i in dataset.images)
    assert {i.format for i in dataset.images} == {"PNG", "JPEG", "WEBP"}
    assert {i.caption_origin for i in dataset.images} == {None, "sidecar", "inline"}
    assert sum(i.size for i in dataset.images) < 4_000_000
    assert manifest.emulator.training_seconds == 60
    icons = load_ok(EXAMPLES / "icons" / "bria.yaml")
    (icon_set,) = icons.datasets.values()
    assert len(icon_set.images) >= 12 and all(256 <= i.width < 1024 for i in icon_set.images)
    assert sorted(m.training_version for m in icons.models.values()) == ["light", "max"]


# --- YAML with positions --------------------------------------------------------------------


def test_yaml_positions_are_one_based_for_keys_and_values() -> None:
    doc = load_yaml("a:\n  b: [1, {c: x}]\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, {"c": "x"}]}} and doc.diagnostics == []
    assert (doc.source_map.key(("a", "b")).line, doc.source_map.key(("a", "b")).col) == (2, 3)
    item = doc.source_map.value(("a", "b", 1, "c"))
    assert (item.line, item.col) == (2, 14)
    assert doc.source_map.nearest(("a", "b", 1, "missing")).col == 10


def test_yaml_scalars_keep_json_types_and_dates_stay_strings() -> None:
    doc = load_yaml("a: 2024-01-01\nb: yes\nc: 12\nd: 1.5e-4\ne: ~\nf: '12'\n", "f.yaml")
    assert doc.data == {"a": "2024-01-01", "b": True, "c": 12, "d": 1.5e-4, "e": None, "f": "12"}


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    started = time.perf_counter()
    doc = load_yaml("\n".join(lines) + "\n", "bomb.yaml")
    # A hang guard, not a timing: the alias budget stops expansion early (linear work).
    assert time.perf_counter() - started < 30.0
    assert doc.data is None and "alias bomb" in doc.diagnostics[0].message


def test_moderate_alias_use_is_fine() -> None:
    doc = load_yaml("a: &a {x: 1}\nb: *a\nc: *a\n", "f.yaml")
    assert doc.data == {"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 1}}


# --- the JSON Schema ------------------------------------------------------------------------


def _properties(schema: object, where: str = "$"):
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            yield f"{where}.{name}", sub
        for key, value in schema.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _properties(value, f"{where}[{i}]")


def test_schema_every_property_is_described_and_objects_are_closed() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = list(_properties(schema))
    assert len(props) > 40
    undocumented = [where for where, sub in props if not sub.get("description")]
    assert undocumented == []

    def objects(node: object):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)
    assert all(o.get("additionalProperties") is False for o in objects(schema))


def test_schema_file_is_shipped_and_linked_from_the_repo_root() -> None:
    root = Path(__file__).parent.parent
    assert (root / "schemas" / "manifest.schema.json").read_text() == \
        (root / "reconciler" / "schemas" / "manifest.schema.json").read_text()
    first_line = (EXAMPLES / "luna" / "bria.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../schemas/manifest.schema.json"


def test_diagnostics_carry_the_resource_address(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, PROJECT + "datasets:\n  d: {project: luna, name: D, images: [{file: a.png}]}\n"
                          "models:\n  m: {dataset: d}\n")
    _, diagnostics = load_manifest(path)
    assert sorted((d.address, d.path) for d in diagnostics) == [
        ("dataset.d", "$.datasets.d.images[0].file"), ("model.m", "$.models.m.name")]


def test_a_misspelt_field_does_not_hide_other_problems_of_its_resource(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, PROJECT + """\
datasets:
  d:
    project: luna
    name: D
    colour: red
    images: [{file: missing.png, captoin: typo}]
""")
    errors = errors_of(path)
    assert len(errors) == 3, errors
    assert "$.datasets.d.colour: unknown field 'colour'" in errors[0]
    assert "$.datasets.d.images[0].file: image file 'missing.png' not found" in errors[1]
    assert "$.datasets.d.images[0].captoin: unknown field" in errors[2]     # same line, further right
