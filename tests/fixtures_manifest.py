"""Fixtures and helpers for the manifest / images / validate tests.

Images are generated on the fly (tiny, deterministic, each path its own content) rather than
committed. `tests/bad_manifests/<case>/setup.txt` lists the files a case needs, one command a
line, paths relative to the case folder (a copy in tmp_path, so `../x` lands beside it):

    png|jpeg|webp|gif PATH WxH   a real image of that size (content derived from PATH)
    text PATH WORDS...           a text file
    truncate PATH BYTES          keep only the first BYTES bytes
    copy SRC DST                 byte-for-byte copy
    symlink LINK TARGET          LINK → TARGET (TARGET relative to LINK's folder)
    many N FOLDER                N valid, distinct 256×256 PNGs (shared pixels, distinct trailers)
    pad PATH BYTES               append zero bytes after the image's end until it is BYTES long
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

BAD_MANIFESTS = Path(__file__).parent / "bad_manifests"
EXAMPLES = Path(__file__).parent.parent / "examples"
_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}


def image_bytes(width: int, height: int, fmt: str = "PNG", seed: str = "") -> bytes:
    """A small real image whose pixels depend on `seed` (so different seeds hash differently)."""
    digest = hashlib.sha256(seed.encode()).digest()
    im = Image.new("RGB", (width, height), tuple(digest[:3]))
    draw = ImageDraw.Draw(im)
    for i in range(3, 27, 6):
        x, y = digest[i] * width // 256, digest[i + 1] * height // 256
        draw.rectangle([x, y, x + width // 4, y + height // 4], fill=tuple(digest[i + 2:i + 5]))
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def write_image(path: Path, width: int, height: int, fmt: str = "PNG", seed: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(width, height, fmt, seed if seed is not None else str(path.name)))
    return path


def write_many_pngs(folder: Path, count: int) -> None:
    """`count` valid PNGs that share pixels but differ after IEND, so their sha256 differ."""
    folder.mkdir(parents=True, exist_ok=True)
    data = image_bytes(256, 256, "PNG", "many")
    for i in range(count):
        (folder / f"img_{i:05d}.png").write_bytes(data + i.to_bytes(4, "big"))


def run_setup(case_dir: Path) -> None:
    """Carry out `case_dir/setup.txt` (see the module docstring)."""
    setup = case_dir / "setup.txt"
    if not setup.exists():
        return
    for line in setup.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        command, *args = line.split()
        target = case_dir / args[0] if command != "many" else case_dir / args[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        if command in _FORMATS:
            width, height = (int(v) for v in args[1].split("x"))
            write_image(target, width, height, _FORMATS[command], seed=args[0])
        elif command == "text":
            target.write_text(" ".join(args[1:]) + "\n", encoding="utf-8")
        elif command == "truncate":
            target.write_bytes(target.read_bytes()[:int(args[1])])
        elif command == "copy":
            dest = case_dir / args[1]
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, dest)
        elif command == "symlink":
            target.symlink_to(args[1])
        elif command == "pad":
            with target.open("ab") as f:
                f.truncate(int(args[1]))
        elif command == "many":
            write_many_pngs(target, int(args[0]))
        else:
            raise ValueError(f"{setup}: unknown setup command {command!r}")


def bad_case_names() -> list[str]:
    return sorted(p.name for p in BAD_MANIFESTS.iterdir() if (p / "bria.yaml").exists())


def read_expectations(case_dir: Path) -> list[tuple[int, str | None, str]]:
    """`expect.txt`: one `LINE | FIELD | MESSAGE SUBSTRING` a line; FIELD `-` = no field."""
    found = []
    for line in (case_dir / "expect.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            number, field, message = (part.strip() for part in line.split("|", 2))
            found.append((int(number), None if field == "-" else field, message))
    return found


@pytest.fixture
def bad_case(tmp_path):
    """Copy a bad-manifest case into tmp_path/case, run its setup; returns its folder."""
    def prepare(name: str) -> Path:
        case_dir = tmp_path / "case"
        shutil.copytree(BAD_MANIFESTS / name, case_dir)
        run_setup(case_dir)
        return case_dir
    return prepare
