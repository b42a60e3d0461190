"""Benchmark inputs: real image files and manifests, generated into a work folder.

Images are real JPEGs (decodable, of the sizes the scenarios need) and each is unique, so
hashing and uploading do honest work. Generation is cached per folder: re-running a
scenario reuses the files.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from PIL import Image


def make_images(folder: Path, count: int, *, size: int, noisy: bool = False, seed: int = 0) -> list[Path]:
    """`count` unique JPEGs of `size`×`size` px. `noisy=True` makes incompressible files
    (~1.4 bytes per pixel at quality 90), used where file size matters."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        rng = random.Random(seed * 1_000_003 + i)
        if noisy:
            image = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
        else:
            image = Image.linear_gradient("L").resize((size, size)).convert("RGB")
            tint = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
            image = Image.blend(image, tint, 0.5)
            patch = Image.frombytes("RGB", (32, 32), rng.randbytes(32 * 32 * 3))
            image.paste(patch, (rng.randrange(size - 32), rng.randrange(size - 32)))
        image.save(path, "JPEG", quality=90)
    return paths


def make_variants(sources: list[Path], folder: Path, tag: str) -> list[Path]:
    """Copies of `sources` made unique by a trailer after the JPEG end-of-image marker
    (decoders ignore it; the sha256 differs). Cheap way to get thousands of distinct,
    realistic-size files without encoding thousands of images."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for src in sources:
        path = folder / src.name
        paths.append(path)
        if not path.exists():
            path.write_bytes(src.read_bytes() + f"bria-bench:{tag}:{src.name}".encode())
    return paths


def write_manifest(path: Path, *, datasets: dict[str, Path], endpoint: str, models: bool = True,
                   state_path: str | None = None) -> Path:
    """A manifest with one `other`/photography project, the given datasets (key → image
    folder, relative to the manifest) and, optionally, one model per dataset."""
    lines = ["version: 1", "api:", f"  endpoint: {endpoint}"]
    if state_path:
        lines += ["state:", f"  path: {state_path}"]
    lines += ["projects:", "  bench:", "    name: Benchmark project", "    ip_type: other",
              "    ip_medium: photography", "datasets:"]
    for key, folder in datasets.items():
        rel = os.path.relpath(folder, path.parent)
        lines += [f"  {key}:", "    project: bench", f"    name: {key}", "    images:",
                  f"      - folder: {rel}", "    complete: true"]
    if models:
        lines.append("models:")
        for key in datasets:
            lines += [f"  {key}_model:", f"    dataset: {key}", f"    name: {key} model",
                      "    training_version: light", "    train: true"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
