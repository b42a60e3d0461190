"""FIBO datasets in the manifest: visual_schema (auto, a .json file, a mapping), JSON
captions (inline mapping or JSON text, `.json` sidecars), models without training_version,
and api.dialect. The refusals are cases of the bad-manifest corpus (fibo_*, mixed_*)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fixtures_manifest import EXAMPLES, write_image
from reconciler.manifest import load_manifest


def _fibo_manifest(folder: Path, dataset_extra: str, images: int = 5) -> Path:
    for index in range(images):
        write_image(folder / "images" / f"i{index}.png", 300, 300)
    manifest = folder / "bria.yaml"
    manifest.write_text(f"""version: 1
api: {{dialect: mixed}}
projects:
  p: {{name: P, ip_type: stylized_scene, ip_medium: illustration}}
datasets:
  d:
    project: p
    name: D
{dataset_extra}
    images:
      - folder: images
models:
  m: {{dataset: d, name: M}}
""")
    return manifest


def test_the_fibo_example_loads_with_json_captions(tmp_path):
    folder = tmp_path / "fibo"
    shutil.copytree(EXAMPLES / "fibo", folder, ignore=shutil.ignore_patterns(".bria", "state"))
    manifest, diagnostics = load_manifest(folder / "bria.yaml")
    assert manifest is not None, diagnostics
    dataset = manifest.datasets["luna_v1"]
    assert (dataset.family, dataset.visual_schema, manifest.api_dialect) == ("fibo", "auto", "fibo")
    captions = {image.rel_path: image.caption for image in dataset.images if image.caption}
    assert json.loads(captions["images/extra/wave.png"])["subject"] == "Luna waving at the viewer"
    assert json.loads(captions["images/luna_02.png"]) == json.loads((folder / "images/luna_02.json").read_text())
    assert len(captions) == 3
    model = manifest.models["luna_fibo"]
    assert (model.training_version, model.training_parameters["total_training_steps"]) == ("fibo", 1000)


def test_visual_schema_from_a_file_or_a_mapping_is_kept_as_compact_json(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "schema.json").write_text('{\n  "style": "flat",\n  "colors": "warm"\n}\n')
    from_file, diagnostics = load_manifest(_fibo_manifest(tmp_path / "a", "    visual_schema: schema.json"))
    assert from_file is not None, diagnostics
    from_mapping, diagnostics = load_manifest(
        _fibo_manifest(tmp_path / "b", "    visual_schema: {style: flat, colors: warm}"))
    assert from_mapping is not None, diagnostics
    assert from_file.datasets["d"].visual_schema == '{"style":"flat","colors":"warm"}'
    assert from_mapping.datasets["d"].visual_schema == from_file.datasets["d"].visual_schema
    assert from_file.digest == from_mapping.digest   # the same desired state


def test_a_dataset_without_visual_schema_is_legacy(tmp_path):
    manifest, diagnostics = load_manifest(_fibo_manifest(tmp_path, "    caption_prefix: A scene,"))
    assert manifest is not None, diagnostics
    assert (manifest.datasets["d"].family, manifest.models["m"].training_version) == ("legacy", "max")


def test_a_txt_caption_in_a_fibo_dataset_is_reported_as_ignored(tmp_path):
    manifest_path = _fibo_manifest(tmp_path, "    visual_schema: auto")
    (tmp_path / "images" / "i1.txt").write_text("a legacy caption")
    manifest, diagnostics = load_manifest(manifest_path)
    assert manifest is not None   # a warning, not an error
    assert [d.severity.value for d in diagnostics] == ["warning"]
    assert "i1.txt is ignored" in diagnostics[0].message and diagnostics[0].source.line == 11   # the folder entry
    assert all(image.caption is None for image in manifest.datasets["d"].images)
