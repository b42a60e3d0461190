"""One image read once (reconciler.image_checks): the JPEG header read without Pillow never
accepts what Pillow would refuse, and a file too large to hold is judged as a small one is."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from fixtures_manifest import image_bytes
from PIL import Image

from reconciler.image_checks import (JPEG_TAIL, ImageProblem, _InMemory, _jpeg_first_scan_offset,
                                     ignore_bomb_warnings, plain_jpeg, read_image)


def _jpeg(mode: str = "RGB", **options) -> bytes:
    im = Image.radial_gradient("L").resize((320, 240)).convert(mode)
    out = io.BytesIO()
    im.save(out, "JPEG", **options)
    return out.getvalue()


def _variants() -> dict[str, bytes]:
    exif = Image.Exif()
    exif[0x010F] = "camera"
    return {"baseline": _jpeg(), "progressive": _jpeg(progressive=True), "grey": _jpeg("L"),
            "cmyk": _jpeg("CMYK"), "optimised": _jpeg(optimize=True, quality=50),
            "icc": _jpeg(icc_profile=b"\0" * 300), "comment": _jpeg(comment=b"made by a test"),
            "restarts": _jpeg(restart_marker_rows=2), "no_subsampling": _jpeg(subsampling=0),
            "exif": _jpeg(exif=exif.tobytes())}


def _pillow_facts(data: bytes) -> tuple[int, int, str] | None:
    """What Pillow's path concludes: (width, height, format), or None when it refuses."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0], im.size[1], im.format
    except Exception:
        return None


def _mutations(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Header damage of the kinds files really suffer, and some they do not."""
    header_end = plain_jpeg(data)[2] if plain_jpeg(data) else 600
    out = []
    for _ in range(count):
        at = rng.randrange(2, header_end + 20)
        kind = rng.randrange(5)
        if kind == 0:
            out.append(data[:at] + bytes([rng.randrange(256)]) + data[at + 1:])
        elif kind == 1:
            out.append(data[:at])
        elif kind == 2:
            out.append(data[:at] + bytes(rng.choice([b"\xff", b"\x00", b"\xff\xff", b"\xff\xd8"])) + data[at:])
        elif kind == 3:
            out.append(data[:at] + data[at + rng.randrange(1, 8):])
        else:
            value = rng.choice([0, 1, 2, 8, 12, 16, 0xFF, 0xFFFF])
            out.append(data[:at] + value.to_bytes(2, "big") + data[at + 2:])
    return out


def test_plain_jpegs_are_read_without_pillow_and_agree_with_it() -> None:
    for name, data in _variants().items():
        facts = plain_jpeg(data)
        if name == "exif":
            assert facts is None, "EXIF is parsed by Pillow; such files must go to it"
            continue
        assert facts is not None, name
        assert (facts[0], facts[1], "JPEG") == _pillow_facts(data), name
        assert facts[2] == _jpeg_first_scan_offset(_InMemory(data)), name


def test_a_damaged_header_is_never_accepted_where_pillow_would_refuse_it() -> None:
    """Thousands of mutated headers: whatever the Pillow-free reading accepts, Pillow opens as
    a JPEG of the same size, with its first scan at the same offset."""
    rng = random.Random(15)
    accepted = refused = 0
    for data in _variants().values():
        for mutated in _mutations(data, rng, 400):
            facts = plain_jpeg(mutated)
            if facts is None:
                refused += 1
                continue
            accepted += 1
            assert _pillow_facts(mutated) == (facts[0], facts[1], "JPEG"), mutated[:64]
            assert _jpeg_first_scan_offset(_InMemory(mutated)) == facts[2]
    assert accepted > 500 and refused > 500, (accepted, refused)     # both sides are exercised


def _with_frame_size(data: bytes, width: int, height: int) -> bytes:
    at = data.index(b"\xff\xc0") + 5
    return data[:at] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 4:]


def test_huge_frame_sizes_are_left_to_pillow(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    """Above Pillow's pixel limit the header alone is not trusted: Pillow's rules apply (a
    warning, which bria silences, up to twice the limit; an error beyond it)."""
    ignore_bomb_warnings()
    data = _jpeg()
    big = _with_frame_size(data, 10_000, 10_000)            # 100 Mpx: between the limits
    bomb = _with_frame_size(data, 20_000, 20_000)           # 400 Mpx
    assert plain_jpeg(big) is None and plain_jpeg(bomb) is None
    (tmp_path / "big.jpg").write_bytes(big)
    (tmp_path / "bomb.jpg").write_bytes(bomb)
    read = read_image(tmp_path / "big.jpg")
    assert not isinstance(read.result, ImageProblem) and (read.result.width, read.result.height) == (10_000, 10_000)
    problem = read_image(tmp_path / "bomb.jpg").result
    assert isinstance(problem, ImageProblem) and "too many pixels" in str(problem)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def _files(folder: Path) -> list[Path]:
    jpeg = image_bytes(640, 480, "JPEG", seed="stream")
    contents = {
        "a.png": image_bytes(400, 300, "PNG", seed="a"), "b.webp": image_bytes(400, 300, "WEBP", seed="b"),
        "c.jpg": jpeg, "exif.jpg": _variants()["exif"], "prog.jpg": _variants()["progressive"],
        "trailer.jpg": jpeg + os.urandom(JPEG_TAIL + 1000).replace(b"\xff", b"\x00"),
        "no_end.jpg": jpeg[:-2] + os.urandom(JPEG_TAIL + 1000).replace(b"\xff", b"\x00"),
        "cut.jpg": jpeg[:len(jpeg) // 2], "cut.png": image_bytes(400, 300, "PNG", seed="c")[:500],
        "cut.webp": image_bytes(400, 300, "WEBP", seed="d")[:-40], "anim.gif": image_bytes(50, 50, "GIF"),
        "lfs.png": b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n",
        "text.png": b"not an image", "empty.jpg": b"",
    }
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in contents]


@pytest.mark.parametrize("in_memory_max", [0, 1000])
def test_a_file_too_large_to_hold_is_judged_as_a_small_one_is(tmp_path: Path, in_memory_max: int) -> None:
    """Files above the in-memory size are hashed in chunks and checked by positioned reads;
    the facts and the problems must be exactly those of the one-read path."""
    for path in _files(tmp_path):
        held, streamed = read_image(path), read_image(path, in_memory_max=in_memory_max)
        assert (held.bytes_read, held.identity) == (streamed.bytes_read, streamed.identity), path.name
        if isinstance(held.result, ImageProblem):
            assert isinstance(streamed.result, ImageProblem) and str(streamed.result) == str(held.result), path.name
        else:
            assert streamed.result == held.result, path.name


def test_problems_name_what_is_wrong(tmp_path: Path) -> None:
    results = {path.name: read_image(path).result for path in _files(tmp_path)}
    expected = {"no_end.jpg": "no end-of-image marker", "cut.jpg": "corrupt or truncated", "cut.png": "corrupt or truncated",
                "cut.webp": "corrupt or truncated", "anim.gif": "is a GIF image", "lfs.png": "Git LFS pointer",
                "text.png": "not a JPEG, PNG or WEBP", "empty.jpg": "not a JPEG, PNG or WEBP"}
    for name, result in results.items():
        if name in expected:
            assert isinstance(result, ImageProblem) and expected[name] in str(result), (name, result)
        else:
            assert not isinstance(result, ImageProblem), (name, result)
    assert read_image(tmp_path / "gone.jpg").identity is None
