"""Image scanning, hashing, checks and the HashCache — and that big inputs stay cheap."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fixtures_manifest import image_bytes, write_image, write_many_pngs

from reconciler.images import (JPEG_TAIL, HashCache, ImageInfo, ImageProblem, default_cache_path,
                               inspect_image, inspect_images, list_folder, relative_posix,
                               sidecar_caption, size_problem)
from reconciler.manifest import load_manifest

MANIFEST = """\
version: 1
projects:
  p: {name: P, ip_type: other, ip_medium: illustration}
datasets:
  d:
    project: p
    name: D
    images:
      - folder: images
"""


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_inspect_reports_hash_size_and_format(tmp_path: Path, fmt: str) -> None:
    path = write_image(tmp_path / f"x.{fmt.lower()}", 640, 480, fmt)
    info = inspect_image(path)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.width, info.height, info.format, info.size) == (640, 480, fmt, path.stat().st_size)


def test_format_comes_from_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "really_a_jpeg.png"
    path.write_bytes(image_bytes(300, 300, "JPEG"))
    assert inspect_image(path).format == "JPEG"


@pytest.mark.parametrize("fmt, keep", [("PNG", 0.5), ("JPEG", 0.6), ("WEBP", 0.5), ("PNG", 0.97)])
def test_truncated_images_are_refused(tmp_path: Path, fmt: str, keep: float) -> None:
    data = image_bytes(600, 600, fmt, seed="truncate me")
    path = tmp_path / f"t.{fmt.lower()}"
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ImageProblem, match="corrupt or truncated"):
        inspect_image(path)


def test_corrupted_png_data_is_caught_by_crc(tmp_path: Path) -> None:
    data = bytearray(image_bytes(600, 600, "PNG", seed="crc"))
    idat = data.index(b"IDAT")
    data[idat + 20] ^= 0xFF
    path = tmp_path / "flipped.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageProblem, match="corrupt"):
        inspect_image(path)


def test_text_and_other_formats_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "fake.png"
    text.write_text("hello, I am not an image")
    with pytest.raises(ImageProblem, match="not a JPEG, PNG or WEBP"):
        inspect_image(text)
    gif = write_image(tmp_path / "g.gif", 300, 300, "GIF")
    with pytest.raises(ImageProblem, match="is a GIF image"):
        inspect_image(gif)
    with pytest.raises(ImageProblem, match="was not found"):
        inspect_image(tmp_path / "missing.png")


def test_size_rules() -> None:
    def info(w: int, h: int):
        from reconciler.images import ImageInfo
        return ImageInfo("0" * 64, w, h, "PNG", 1)
    assert size_problem(info(256, 256), True) is None
    assert "at least 256×256" in size_problem(info(255, 2000), True)
    assert size_problem(info(1024, 1024), False) is None
    assert "increase_resolution: false" in size_problem(info(1024, 1023), False)


def test_list_folder_sorts_filters_and_recurses(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpeg", "C.Webp", "d.JPG", ".e.png", "notes.txt", "f.gif"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "z.png").write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "y.png").write_bytes(b"x")
    assert [p.name for p in list_folder(tmp_path)] == ["C.Webp", "a.jpeg", "b.PNG", "d.JPG"]
    assert [p.relative_to(tmp_path).as_posix() for p in list_folder(tmp_path, recursive=True)] == [
        "C.Webp", "a.jpeg", "b.PNG", "d.JPG", "sub/z.png"]


def test_sidecar_captions(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    assert sidecar_caption(image) is None
    (tmp_path / "a.txt").write_text("\ufeff  a caption\n\n", encoding="utf-8")
    assert sidecar_caption(image) == "a caption"
    (tmp_path / "a.txt").write_text(" \n")
    assert sidecar_caption(image) is None
    (tmp_path / "a.txt").write_bytes(b"caf\xe9")
    with pytest.raises(ImageProblem, match="not UTF-8"):
        sidecar_caption(image)


def test_sidecar_caption_reads_newlines_as_a_text_mode_read_does(tmp_path: Path) -> None:
    """Captions are read as bytes for speed; the text must be what `read_text` gives (CRLF
    and CR become LF), or a Windows-edited caption would look changed."""
    image = tmp_path / "a.png"
    for raw in (b"line one\r\nline two\r\n", b"old mac\rstyle\r", b"mixed\r\n\rand\n\nlf", b"\xef\xbb\xbfbom\r\nx"):
        (tmp_path / "a.txt").write_bytes(raw)
        assert sidecar_caption(image) == ((tmp_path / "a.txt").read_text(encoding="utf-8-sig").strip() or None)
        assert "\r" not in sidecar_caption(image)


def test_hash_cache_hits_only_for_unchanged_files(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", 300, 300)
    cache = HashCache(tmp_path / "cache.json")
    first = inspect_image(path, cache)
    assert (cache.stats.hits, cache.stats.misses, cache.stats.bytes_hashed) == (0, 1, path.stat().st_size)
    cache.save()
    warm = HashCache(tmp_path / "cache.json")
    assert inspect_image(path, warm) == first
    assert (warm.stats.hits, warm.stats.bytes_hashed) == (1, 0)
    write_image(path, 400, 300, seed="changed")
    changed = inspect_image(path, warm)
    assert changed.sha256 != first.sha256 and changed.width == 400 and warm.stats.misses == 1


def test_hash_cache_survives_a_corrupt_file_and_prunes_deleted_files(tmp_path: Path) -> None:
    cache_path = tmp_path / "cache.json"
    cache_path.write_text("{not json")
    cache = HashCache(cache_path)
    kept = write_image(tmp_path / "kept.png", 300, 300)
    gone = write_image(tmp_path / "gone.png", 300, 300)
    inspect_image(kept, cache)
    inspect_image(gone, cache)
    cache.save()
    gone.unlink()
    later = HashCache(cache_path)
    write_image(tmp_path / "new.png", 300, 300)
    inspect_image(tmp_path / "new.png", later)
    later.save()
    entries = json.loads(cache_path.read_text())["entries"]
    assert sorted(Path(k).name for k in entries) == ["kept.png", "new.png"]


def test_warm_manifest_load_reads_no_image_bytes(tmp_path: Path) -> None:
    for i in range(5):
        write_image(tmp_path / "images" / f"i{i}.png", 300, 300)
    manifest_path = tmp_path / "bria.yaml"
    manifest_path.write_text(MANIFEST)
    cold = HashCache(default_cache_path(tmp_path))
    first, _ = load_manifest(manifest_path, hash_cache=cold)
    assert first is not None and cold.stats.misses == 5 and cold.stats.bytes_hashed > 0
    assert default_cache_path(tmp_path).exists()
    warm = HashCache(default_cache_path(tmp_path))
    second, _ = load_manifest(manifest_path, hash_cache=warm)
    assert second is not None and second.digest == first.digest
    assert (warm.stats.hits, warm.stats.misses, warm.stats.bytes_hashed) == (5, 0, 0)
    assert second.datasets["d"].images == first.datasets["d"].images


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths the image pool reads from now on (a spy around the real read, not a stub)."""
    from reconciler import images

    read: list[Path] = []
    real = images.read_image_and_caption

    def counted(path: Path, read_caption: Any) -> Any:
        read.append(path)          # list.append is atomic: pool threads call this concurrently
        return real(path, read_caption)

    monkeypatch.setattr(images, "read_image_and_caption", counted)
    return read


def test_five_thousand_images_fail_fast_without_reading_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """>200 images is reported from the folder listing alone: no file is hashed or decoded."""
    write_many_pngs(tmp_path / "images", 5000)
    assert inspect_image(tmp_path / "images" / "img_04999.png").format == "PNG"   # they are real
    manifest_path = tmp_path / "bria.yaml"
    manifest_path.write_text(MANIFEST)
    cache = HashCache(None)
    reads = _count_reads(monkeypatch)
    started = time.perf_counter()
    manifest, diagnostics = load_manifest(manifest_path, hash_cache=cache)
    elapsed = time.perf_counter() - started
    assert manifest is None
    assert [str(d) for d in diagnostics] == [
        f"{manifest_path}:8:5: error: $.datasets.d.images: dataset has 5000 images; the API "
        "accepts at most 200 per dataset (split it into several datasets)"]
    assert (cache.stats.misses, cache.stats.hits, cache.stats.bytes_hashed) == (0, 0, 0)
    assert reads == []                # nor read ahead of the checks
    assert elapsed < 5.0, elapsed     # ~0.2 s: a folder listing, not 5000 reads


_MEASURE_PEAK = """
import resource, sys
from pathlib import Path
from typing import Any
from reconciler.images import inspect_image
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for name in sys.argv[1:]:
    info = inspect_image(Path(name))
    assert (info.width, info.height) == (5000, 5000), info
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_memory_stays_flat_while_checking_large_images(tmp_path: Path) -> None:
    """25 Mpx images decode to 75 MB of RGB each (a progressive JPEG's coefficients alone take
    ~70 MB); checking all four formats in a fresh process must raise its peak RSS far less.
    (Pillow allocates pixels in C, so tracemalloc would not see them: measure the process.)"""
    from PIL import Image
    picture = Image.radial_gradient("L").resize((5000, 5000)).convert("RGB")
    files = []
    for name, fmt, options in (("base.jpg", "JPEG", {}), ("prog.jpg", "JPEG", {"progressive": True}),
                               ("big.png", "PNG", {"compress_level": 1}), ("big.webp", "WEBP", {"quality": 30})):
        picture.save(tmp_path / name, fmt, **options)
        files.append(str(tmp_path / name))
    done = subprocess.run([sys.executable, "-c", _MEASURE_PEAK, *files], capture_output=True,
                          text=True, timeout=60, check=True)
    assert int(done.stdout) < 30, f"peak RSS grew by {done.stdout.strip()} MB"


def test_truncated_progressive_jpeg_is_refused(tmp_path: Path) -> None:
    from PIL import Image
    path = tmp_path / "p.jpg"
    Image.radial_gradient("L").resize((800, 600)).convert("RGB").save(path, "JPEG", progressive=True)
    assert inspect_image(path).format == "JPEG"
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ImageProblem, match="no end-of-image marker"):
        inspect_image(path)


def test_dangling_symlink_in_a_folder_is_reported(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "a.png", 300, 300)
    os.symlink("gone.png", tmp_path / "images" / "b.png")
    (tmp_path / "bria.yaml").write_text(MANIFEST)
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml")
    assert manifest is None
    assert [d.message for d in diagnostics] == ["images/b.png was not found"]


def test_symlink_inside_the_folder_is_allowed(tmp_path: Path) -> None:
    write_image(tmp_path / "store" / "a.png", 300, 300)
    (tmp_path / "images").mkdir()
    os.symlink("../store/a.png", tmp_path / "images" / "link.png")
    (tmp_path / "bria.yaml").write_text(MANIFEST)
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml")
    assert manifest is not None, diagnostics
    (image,) = manifest.datasets["d"].images
    assert image.rel_path == "images/link.png" and image.image_name.endswith("-link.png")


def test_inspect_images_keeps_the_order_and_reports_each_file(tmp_path: Path) -> None:
    """Files are hashed on a thread pool; results still line up with the paths asked for."""
    paths = [write_image(tmp_path / f"i{i:02d}.{fmt.lower()}", 300 + i, 280, fmt)
             for i, fmt in enumerate(["PNG", "JPEG", "WEBP"] * 6)]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(paths[1].read_bytes()[:300])
    asked = [*paths[:5], tmp_path / "missing.png", broken, *paths[5:]]
    cache = HashCache(None)
    results = inspect_images(asked, cache)
    assert len(results) == len(asked)
    for path, result in zip(asked, results):
        if path.name == "missing.png":
            assert isinstance(result, ImageProblem) and str(result) == "was not found"
        elif path == broken:
            assert isinstance(result, ImageProblem) and "corrupt or truncated" in str(result)
        else:
            assert isinstance(result, ImageInfo)
            assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
            assert result == inspect_image(path)
    assert cache.stats.misses == len(asked) - 1       # the missing file is never looked up
    assert cache.stats.bytes_hashed == sum(p.stat().st_size for p in [*paths, broken])
    again = inspect_images(paths, cache)              # every good file now comes from the cache
    assert again == [r for r in results if isinstance(r, ImageInfo)]
    assert cache.stats.hits == len(paths)


def test_baseline_jpeg_truncated_anywhere_in_its_scan_is_refused(tmp_path: Path) -> None:
    data = image_bytes(800, 600, "JPEG", seed="cut")
    path = tmp_path / "cut.jpg"
    for keep in (0.3, 0.9, len(data) - 2):
        path.write_bytes(data[:int(len(data) * keep) if keep < 1 else keep])
        with pytest.raises(ImageProblem, match="no end-of-image marker after its first scan"):
            inspect_image(path)


def test_jpeg_with_data_after_its_end_marker_is_accepted(tmp_path: Path) -> None:
    """Cameras append trailers (and motion photos a whole video) after the end-of-image marker:
    the marker is then not in the file's last JPEG_TAIL bytes, and is found by a full scan."""
    data = image_bytes(640, 480, "JPEG", seed="trailer")
    for trailer in (b"short trailer", os.urandom(JPEG_TAIL + 1000).replace(b"\xff", b"\x00")):
        path = tmp_path / "t.jpg"
        path.write_bytes(data + trailer)
        assert inspect_image(path).format == "JPEG"
        path.write_bytes(data[:-2] + trailer)           # the marker itself missing
        with pytest.raises(ImageProblem, match="no end-of-image marker"):
            inspect_image(path)


def test_an_end_marker_in_a_segment_before_the_scan_does_not_count(tmp_path: Path) -> None:
    """An EXIF thumbnail carries its own FF D9 before the image's first scan."""
    data = image_bytes(640, 480, "JPEG", seed="thumb")
    app1 = b"Exif\x00\x00" + b"\xff\xd8 thumbnail \xff\xd9"
    with_thumbnail = data[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + data[2:]
    path = tmp_path / "thumb.jpg"
    path.write_bytes(with_thumbnail)
    assert inspect_image(path).format == "JPEG"
    path.write_bytes(with_thumbnail[:len(with_thumbnail) // 2])
    with pytest.raises(ImageProblem, match="no end-of-image marker"):
        inspect_image(path)


@pytest.mark.parametrize("relative", ["a.png", "sub/dir/b.jpg", "x y/ü.webp"])
def test_relative_posix_matches_relpath(tmp_path: Path, relative: str) -> None:
    root = tmp_path.resolve()
    path = root / relative
    assert relative_posix(path, root) == Path(os.path.relpath(path, root)).as_posix() == relative
    assert relative_posix(root.parent / "elsewhere.png", root) == "../elsewhere.png"
    assert relative_posix(root, root) == "."


def test_a_camera_mpo_jpeg_is_accepted_as_jpeg(tmp_path):
    """Phone/camera JPEGs with a preview image are MPO to Pillow; they are still JPEGs."""
    from PIL import Image as PILImage

    from reconciler.images import inspect_image

    path = tmp_path / "camera.jpg"
    first = PILImage.new("RGB", (640, 480), (10, 120, 200))
    preview = PILImage.new("RGB", (160, 120), (200, 20, 20))
    first.save(path, "MPO", save_all=True, append_images=[preview])
    with PILImage.open(path) as im:
        assert im.format == "MPO"          # the case this test is about
    facts = inspect_image(path)
    assert (facts.width, facts.height, facts.format) == (640, 480, "JPEG")


def test_images_are_read_ahead_of_the_checks_and_reported_only_for_checked_datasets(tmp_path: Path) -> None:
    """Every dataset's files are read on the pool as soon as the YAML is parsed; what is
    reported is still only what the checks of schema-valid datasets find, once each."""
    for i in range(3):
        write_image(tmp_path / "good" / f"g{i}.png", 300, 300)
    (tmp_path / "good" / "g0.txt").write_text("a caption\r\n")
    write_image(tmp_path / "bad" / "b0.png", 300, 300)
    (tmp_path / "bad" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "bria.yaml").write_text(
        "version: 1\nprojects:\n  p: {name: P, ip_type: other, ip_medium: illustration}\ndatasets:\n"
        "  good:\n    project: p\n    name: Good\n    images:\n      - folder: good\n"
        "  refused:\n    project: p\n    name: [Refused]\n    images:\n      - folder: bad\n")
    cache = HashCache(None)
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml", hash_cache=cache)
    assert manifest is None
    assert [d.message for d in diagnostics if "broken" in d.message] == []    # the refused dataset is not checked
    assert [d.path for d in diagnostics] == ["$.datasets.refused.name"]
    assert (cache.stats.misses, cache.stats.bytes_hashed) == (3, sum(p.stat().st_size for p in (tmp_path / "good").glob("*.png")))
    (tmp_path / "bria.yaml").write_text((tmp_path / "bria.yaml").read_text().replace("[Refused]", "Refused"))
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml", hash_cache=cache)
    assert [d.message for d in diagnostics] == ["bad/broken.png is not a JPEG, PNG or WEBP image (its content is not a "
                                                "recognised image)"]
    (tmp_path / "bad" / "broken.png").unlink()
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml", hash_cache=HashCache(None))
    assert manifest is not None, diagnostics
    good = {image.rel_path: image for image in manifest.datasets["good"].images}
    assert good["good/g0.png"].caption == "a caption" and good["good/g1.png"].caption is None
    assert [image.sha256 for image in manifest.datasets["refused"].images] == [
        hashlib.sha256((tmp_path / "bad" / "b0.png").read_bytes()).hexdigest()]


@pytest.mark.parametrize("recursive", [False, True])
def test_sidecars_the_listing_shows_absent_are_not_read_and_the_others_are(tmp_path: Path, recursive: bool) -> None:
    """Whether a sidecar exists comes from the folder listing (no open per image); anything
    named like one is still read, so a folder named x.txt is reported as before."""
    folder = tmp_path / "images" / ("sub" if recursive else "")
    for name in ("a", "b", "c"):
        write_image(folder / f"{name}.png", 300, 300)
    (folder / "a.txt").write_text("caption a")
    (folder / "c.txt").mkdir()
    (tmp_path / "bria.yaml").write_text(MANIFEST + ("        recursive: true\n" if recursive else ""))
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml")
    rel = "images/sub/c.png" if recursive else "images/c.png"
    assert [d.message for d in diagnostics] == [f"{rel} has a caption file c.txt that cannot be read (Is a directory)"]
    (folder / "c.txt").rmdir()
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml")
    assert manifest is not None, diagnostics
    assert {image.rel_path.rsplit("/", 1)[1]: image.caption for image in manifest.datasets["d"].images} == {
        "a.png": "caption a", "b.png": None, "c.png": None}


def test_reads_ahead_not_begun_are_dropped_by_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On an error or Ctrl-C while loading, `cancel` leaves queued reads undone (only the
    batches in flight finish), and a cancelled read-ahead hands nothing out."""
    from reconciler.images import ReadAhead, _pool

    write_many_pngs(tmp_path / "many", 3000)
    paths = sorted((tmp_path / "many").iterdir())
    _pool().submit(lambda: None).result()              # threads started: the race is only the reads
    reads = _count_reads(monkeypatch)
    ahead = ReadAhead()
    ahead.start(paths, [None] * len(paths), None)
    ahead.cancel()
    _pool().submit(lambda: None).result()              # queued after every batch: they are all settled
    assert len(reads) < len(paths) // 2, f"{len(reads)} of {len(paths)} read after cancel"
    assert ahead.take(paths[-1]) is None


def test_meanwhile_runs_once_after_the_reads_start_and_before_any_image_is_checked(tmp_path: Path) -> None:
    """`load_manifest(meanwhile=…)` lets a caller overlap its own next work with the reading."""
    write_many_pngs(tmp_path / "images", 40)
    (tmp_path / "bria.yaml").write_text(MANIFEST)
    cache = HashCache(None)
    seen: list[tuple[int, bool]] = []
    manifest, diagnostics = load_manifest(tmp_path / "bria.yaml", hash_cache=cache,
                                          meanwhile=lambda: seen.append((cache.stats.misses, gc.isenabled())))
    assert manifest is not None, diagnostics
    assert seen == [(0, False)]             # called once, before the first image was checked
    assert cache.stats.misses == 40
    assert gc.isenabled()                   # the collector, paused while loading, runs again
    (tmp_path / "bria.yaml").write_text("- not a mapping\n")
    gc.disable()
    try:
        assert load_manifest(tmp_path / "bria.yaml", meanwhile=lambda: seen.append((-1, True)))[0] is None
        assert not gc.isenabled()           # left as the caller had it
    finally:
        gc.enable()
    assert seen == [(0, False)]             # nothing to read: not called
