"""Inputs that must be refused or warned about before anything is sent: the manifest size cap,
the alias budget, the image hash cache's notion of "unchanged", images the API would refuse
as too large, Git LFS pointers, orphaned sidecar captions, and a `file:` entry that a
`folder:` entry also covers. The API limits themselves are compared with the emulator's in
tests/test_limits.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from click.testing import CliRunner
from fixtures_bad_input import bria_script
from fixtures_manifest import write_image

from reconciler.cli import main
from reconciler.images import HashCache, inspect_image
from reconciler.limits import (MAX_ALIAS_EXPANSION, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PAYLOAD_BYTES,
                               MAX_MANIFEST_BYTES, base64_size)
from reconciler.manifest import load_manifest
from reconciler.yamlsource import load_yaml

PROJECT = """\
version: 1
projects:
  p: {name: P, ip_type: other, ip_medium: illustration}
"""


def _validate(manifest: Path):
    return CliRunner().invoke(main, ["validate", "-f", str(manifest)])


# --- manifest size and aliases ----------------------------------------------------------------


def test_a_manifest_over_the_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    manifest = tmp_path / "bria.yaml"
    # Valid YAML all the way down (a comment), so only the size can be the reason — and a
    # parser given it would take seconds; the refusal needs one read of cap + 1 bytes.
    with manifest.open("w") as f:
        f.write(PROJECT)
        f.write("# " + "x" * (MAX_MANIFEST_BYTES + 10) + "\n")
    size = manifest.stat().st_size
    result = _validate(manifest)
    assert result.exit_code == 1, result.output
    assert f"{manifest}:1:1: error: the manifest is" in result.stderr
    assert f"({size:,} bytes); bria reads manifests of at most 4.0 MiB" in result.stderr
    assert "alias" not in result.stderr and "Traceback" not in result.stderr


def test_a_manifest_at_the_cap_is_read(tmp_path: Path) -> None:
    manifest = tmp_path / "bria.yaml"
    text = PROJECT + "# "
    manifest.write_text(text + "x" * (MAX_MANIFEST_BYTES - len(text) - 1) + "\n")
    assert manifest.stat().st_size == MAX_MANIFEST_BYTES
    found, diagnostics = load_manifest(manifest)
    assert found is not None and diagnostics == []


def test_many_written_values_are_not_an_alias_bomb() -> None:
    # 3 × the alias budget in values written out, no alias at all: it is simply big. (A small
    # budget keeps the test fast; the default behaves the same, only later.)
    text = "a:\n" + "".join(f"  - {{k: {i}}}\n" for i in range(1500))
    doc = load_yaml(text, "big.yaml", node_budget=1000)
    assert doc.diagnostics == [] and len(doc.data["a"]) == 1500
    one_alias_too_many = load_yaml("x: &x [" + ",".join(["v"] * 999) + "]\ny: *x\nz: *x\n", "f.yaml",
                                   node_budget=1000)
    assert one_alias_too_many.data is None and "alias bomb" in one_alias_too_many.diagnostics[0].message


def test_the_alias_budget_counts_only_what_aliases_add() -> None:
    # One anchored list of 1,000 values, used through aliases: each use adds 1,001 values.
    anchor = "base: &b [" + ",".join(["x"] * 1000) + "]\n"
    uses_within = MAX_ALIAS_EXPANSION // 1001
    fits = load_yaml(anchor + "".join(f"u{i}: *b\n" for i in range(uses_within)), "ok.yaml")
    assert fits.diagnostics == [] and len(fits.data) == uses_within + 1
    over = load_yaml(anchor + "".join(f"u{i}: *b\n" for i in range(uses_within + 1)), "bomb.yaml")
    assert over.data is None
    assert "YAML aliases expand the document by more than 100,000 values (an alias bomb?)" in \
        over.diagnostics[0].message
    assert over.diagnostics[0].path == f"$.u{uses_within}"


# --- the image hash cache ---------------------------------------------------------------------


def _same_size_same_mtime(path: Path, seed: str) -> None:
    """Rewrite `path` in place with other pixels of the same byte length and restore its
    mtime (as `cp -p` or an unlucky checkout would)."""
    before = path.stat()
    for attempt in range(100):
        write_image(path.with_name("candidate.png"), 300, 300, seed=f"{seed}{attempt}")
        data = path.with_name("candidate.png").read_bytes()
        if len(data) == before.st_size:
            break
    else:
        data = path.with_name("candidate.png").read_bytes()
        data = data[:before.st_size] if len(data) > before.st_size else data + b"\0" * (before.st_size - len(data))
    with path.open("r+b") as f:
        f.write(data)
        f.truncate(before.st_size)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


def test_an_in_place_same_size_same_mtime_rewrite_is_rehashed(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", 300, 300, seed="first")
    cache = HashCache(tmp_path / "cache.json")
    first = inspect_image(path, cache)
    cache.save()
    _same_size_same_mtime(path, "second")
    warm = HashCache(tmp_path / "cache.json")
    again = inspect_image(path, warm)
    assert warm.stats.misses == 1 and warm.stats.hits == 0
    assert again.sha256 != first.sha256


def test_a_same_size_same_mtime_replacement_by_rename_is_rehashed(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", 300, 300, seed="first")
    cache = HashCache(tmp_path / "cache.json")
    first = inspect_image(path, cache)
    cache.save()
    other = tmp_path / "other.png"
    other.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))  # same size, other bytes
    st = path.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, path)                  # a new inode under the old name
    warm = HashCache(tmp_path / "cache.json")
    again = inspect_image(path, warm)
    assert warm.stats.misses == 1 and again.sha256 != first.sha256
    # and an untouched file is still a hit (the positive control)
    inspect_image(path, warm)
    warm.save()
    hot = HashCache(tmp_path / "cache.json")
    assert inspect_image(path, hot) == again and hot.stats.hits == 1 and hot.stats.bytes_hashed == 0


# --- images the API would refuse --------------------------------------------------------------


def test_the_image_size_limit_is_on_the_base64_payload() -> None:
    assert base64_size(MAX_IMAGE_FILE_BYTES) == MAX_IMAGE_PAYLOAD_BYTES
    assert base64_size(MAX_IMAGE_FILE_BYTES + 1) > MAX_IMAGE_PAYLOAD_BYTES


def _padded(path: Path, size: int) -> Path:
    write_image(path, 300, 300)
    with path.open("ab") as f:
        f.truncate(size)                    # zeros after the PNG's end: still a valid PNG
    return path


def test_validate_refuses_an_image_over_the_payload_limit_and_accepts_one_at_it(tmp_path: Path) -> None:
    _padded(tmp_path / "images" / "big.png", MAX_IMAGE_FILE_BYTES + 1)
    _padded(tmp_path / "images" / "edge.png", MAX_IMAGE_FILE_BYTES)
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d:\n    project: p\n    name: D\n    images:\n"
                        "      - file: images/edge.png\n      - file: images/big.png\n")
    result = _validate(manifest)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if " error: " in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"{manifest}:10:9: error: $.datasets.d.images[1].file: images/big.png is 9.0 MB")
    assert "above the API's limit of 12,000,000 bytes (12 MB) for an image (it answers 413)" in errors[0]


def test_a_git_lfs_pointer_says_to_run_git_lfs_pull(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.webp").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 123456\n")
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d: {project: p, name: D, images: [{folder: images}]}\n")
    result = _validate(manifest)
    assert result.exit_code == 1
    assert "images/a.webp is a Git LFS pointer, not the image itself" in result.stderr
    assert "run `git lfs pull`" in result.stderr
    assert "not a JPEG, PNG or WEBP" not in result.stderr


# --- sidecars and entries ---------------------------------------------------------------------


def test_an_orphaned_sidecar_is_a_warning_naming_it(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "kept.png", 300, 300)
    (tmp_path / "images" / "kept.txt").write_text("a used caption\n")
    (tmp_path / "images" / "renamed.txt").write_text("a caption left behind\n")     # `git mv renamed.png …`
    (tmp_path / "images" / "nested").mkdir()
    (tmp_path / "images" / "nested" / "deep.txt").write_text("not looked at without recursive\n")
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d:\n    project: p\n    name: D\n    images:\n"
                        "      - folder: images\n")
    done = subprocess.run([bria_script(), "validate"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("BRIA_")})
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "bria.yaml:9:9: warning: $.datasets.d.images[0].folder: images/renamed.txt is a caption "
        "file with no image of the same name beside it (was its image renamed or moved?); it is not used"]
    assert done.stdout == "bria.yaml: valid — 1 project, 1 dataset (1 image), 0 models\n"


def test_recursive_folders_report_orphans_in_sub_folders(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "sub" / "a.png", 300, 300)
    (tmp_path / "images" / "sub" / "b.txt").write_text("orphan\n")
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d: {project: p, name: D, images: [{folder: images, recursive: true}]}\n")
    found, diagnostics = load_manifest(manifest)
    assert found is not None
    assert [d.message.split(" is a caption")[0] for d in diagnostics] == ["images/sub/b.txt"]


def test_a_file_entry_wins_over_the_folder_that_covers_it(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_image(tmp_path / "images" / f"{name}.png", 300, 300)
    (tmp_path / "images" / "b.txt").write_text("the sidecar caption\n")
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d:\n    project: p\n    name: D\n    images:\n"
                        "      - folder: images\n"
                        "      - file: images/b.png\n        caption: the manifest's own caption\n")
    found, diagnostics = load_manifest(manifest)
    assert diagnostics == [] and found is not None
    images = {i.rel_path: i for i in found.datasets["d"].images}
    assert sorted(images) == ["images/a.png", "images/b.png", "images/c.png"]
    assert (images["images/b.png"].caption, images["images/b.png"].caption_origin) == (
        "the manifest's own caption", "inline")
    assert images["images/b.png"].source.line == 10          # the file entry's line


def test_the_same_content_under_two_names_is_still_refused(tmp_path: Path) -> None:
    """The positive control for the rule above: only the same *path* is forgiven."""
    write_image(tmp_path / "images" / "a.png", 300, 300)
    (tmp_path / "copy.png").write_bytes((tmp_path / "images" / "a.png").read_bytes())
    manifest = tmp_path / "bria.yaml"
    manifest.write_text(PROJECT + "datasets:\n  d:\n    project: p\n    name: D\n    images:\n"
                        "      - folder: images\n      - file: copy.png\n        caption: c\n")
    found, diagnostics = load_manifest(manifest)
    assert found is None
    assert "copy.png has the same content as images/a.png" in diagnostics[0].message
