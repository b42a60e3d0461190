"""Generate the example images (deterministic: the same files on every run).

    python examples/generate_images.py

Writes real PNG, JPEG and WEBP files under examples/luna/images/ (a blue-haired girl drawn
with ellipses, 1024 px and up) and examples/icons/images/ (flat 512 px icons), plus the
sidecar .txt captions the example manifests rely on. Flat colours keep the PNGs small;
gradients go into the JPEG/WEBP files, which compress them well.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SKIN = (250, 214, 186)
HAIR = [(40, 90, 200), (30, 120, 220), (60, 80, 190)]


def gradient(size: tuple[int, int], top: tuple, bottom: tuple, bands: int | None) -> Image.Image:
    """A vertical gradient; `bands` quantises it into flat stripes (small PNGs)."""
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / (h - 1)
        if bands:
            t = math.floor(t * bands) / bands
        column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize((w, h), Image.NEAREST)


def draw_luna(rng: random.Random, size: tuple[int, int], flat: bool, waving: bool = False) -> Image.Image:
    w, h = size
    sky_top = (rng.randint(90, 160), rng.randint(150, 210), rng.randint(200, 255))
    sky_bottom = (rng.randint(200, 255), rng.randint(200, 240), rng.randint(180, 230))
    im = gradient(size, sky_top, sky_bottom, 12 if flat else None)
    d = ImageDraw.Draw(im)
    ground = int(h * rng.uniform(0.72, 0.82))
    d.rectangle([0, ground, w, h], fill=(rng.randint(70, 120), rng.randint(150, 190), rng.randint(70, 110)))
    for _ in range(rng.randint(2, 4)):                       # clouds
        cx, cy, r = rng.randint(0, w), rng.randint(40, ground // 3), rng.randint(30, 70)
        for dx in (-r, 0, r):
            d.ellipse([cx + dx - r, cy - r // 2, cx + dx + r, cy + r], fill=(255, 255, 255))
    scale = rng.uniform(0.75, 1.0) * min(w, h) / 1024
    cx = int(w * rng.uniform(0.35, 0.65))
    feet = ground + int(20 * scale)

    def s(v: float) -> int:
        return int(v * scale)

    dress = (rng.randint(180, 255), rng.randint(60, 140), rng.randint(100, 200))
    hip, shoulder = feet - s(200), feet - s(420)
    for side in (-1, 1):                                     # legs
        d.rectangle([cx + side * s(35) - s(14), hip, cx + side * s(35) + s(14), feet], fill=SKIN)
        d.ellipse([cx + side * s(35) - s(30), feet - s(16), cx + side * s(35) + s(24), feet + s(14)],
                  fill=(80, 50, 40))
    d.polygon([(cx - s(60), shoulder), (cx + s(60), shoulder), (cx + s(130), hip + s(30)),
               (cx - s(130), hip + s(30))], fill=dress)
    head_r, head_y = s(110), shoulder - s(120)
    hair = rng.choice(HAIR)
    d.ellipse([cx - s(150), head_y - s(130), cx + s(150), head_y + s(190)], fill=hair)   # hair, back
    d.ellipse([cx - head_r, head_y - head_r, cx + head_r, head_y + head_r], fill=SKIN)
    d.chord([cx - s(125), head_y - s(135), cx + s(125), head_y + s(40)], 180, 360, fill=hair)  # fringe
    look = rng.randint(-12, 12)
    for side in (-1, 1):                                     # eyes
        ex = cx + side * s(42) + s(look)
        d.ellipse([ex - s(16), head_y - s(5), ex + s(16), head_y + s(35)], fill=(255, 255, 255))
        d.ellipse([ex - s(9), head_y + s(5), ex + s(9), head_y + s(30)], fill=(30, 40, 90))
    d.arc([cx - s(40), head_y + s(20), cx + s(40), head_y + s(75)], 20, 160, fill=(170, 60, 60),
          width=max(2, s(6)))
    for side in (-1, 1):                                     # cheeks
        bx = cx + side * s(70)
        d.ellipse([bx - s(18), head_y + s(35), bx + s(18), head_y + s(55)], fill=(245, 170, 160))
    arm_up = waving or rng.random() < 0.3
    for side in (-1, 1):                                     # arms
        sx = cx + side * s(58)
        raised = arm_up and side == 1
        hand = (sx + side * s(160), shoulder - s(150)) if raised else (sx + side * s(70), shoulder + s(170))
        d.line([(sx, shoulder + s(20)), hand], fill=SKIN, width=max(4, s(26)))
        d.ellipse([hand[0] - s(20), hand[1] - s(20), hand[0] + s(20), hand[1] + s(20)], fill=SKIN)
    return im


ICONS = ["star", "heart", "house", "tree", "sun", "moon", "cloud", "key", "cup", "bell", "leaf", "fish",
         "flower"]


def draw_icon(name: str, rng: random.Random, size: int = 512) -> Image.Image:
    bg = (rng.randint(225, 250), rng.randint(225, 250), rng.randint(225, 250))
    im = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(im)
    c, r = size // 2, size // 3
    ink = (rng.randint(20, 200), rng.randint(20, 200), rng.randint(20, 200))
    dark = tuple(max(0, v - 60) for v in ink)
    if name in ("star", "flower", "sun"):
        points = 5 if name == "star" else 8
        outer, inner = (r, r // 2.4) if name == "star" else (r, r * 0.75)
        poly = [(c + (outer if i % 2 == 0 else inner) * math.cos(math.pi * i / points - math.pi / 2),
                 c + (outer if i % 2 == 0 else inner) * math.sin(math.pi * i / points - math.pi / 2))
                for i in range(2 * points)]
        d.polygon(poly, fill=ink, outline=dark, width=8)
        if name != "star":
            d.ellipse([c - r // 2, c - r // 2, c + r // 2, c + r // 2], fill=(250, 210, 60), outline=dark, width=6)
    elif name == "heart":
        d.ellipse([c - r, c - r // 1.5, c, c + r // 3], fill=ink)
        d.ellipse([c, c - r // 1.5, c + r, c + r // 3], fill=ink)
        d.polygon([(c - r + 6, c), (c + r - 6, c), (c, c + r)], fill=ink)
    elif name == "house":
        d.rectangle([c - r * 0.7, c - r * 0.1, c + r * 0.7, c + r * 0.9], fill=ink, outline=dark, width=8)
        d.polygon([(c - r, c), (c, c - r), (c + r, c)], fill=dark)
        d.rectangle([c - r * 0.15, c + r * 0.4, c + r * 0.15, c + r * 0.9], fill=bg)
    elif name in ("tree", "leaf"):
        d.rectangle([c - r * 0.12, c, c + r * 0.12, c + r], fill=(110, 70, 40))
        d.ellipse([c - r * 0.8, c - r, c + r * 0.8, c + r * 0.4], fill=ink, outline=dark, width=8)
    elif name == "moon":
        d.ellipse([c - r, c - r, c + r, c + r], fill=ink)
        d.ellipse([c - r * 0.4, c - r * 1.1, c + r * 1.4, c + r * 0.7], fill=bg)
    elif name == "cloud":
        for dx, rr in ((-0.5, 0.45), (0.0, 0.6), (0.5, 0.45)):
            d.ellipse([c + r * dx - r * rr, c - r * rr, c + r * dx + r * rr, c + r * rr], fill=ink)
        d.rectangle([c - r * 0.5, c, c + r * 0.5, c + r * 0.45], fill=ink)
    elif name == "key":
        d.ellipse([c - r, c - r * 0.4, c - r * 0.2, c + r * 0.4], outline=ink, width=30)
        d.rectangle([c - r * 0.25, c - r * 0.1, c + r, c + r * 0.1], fill=ink)
        d.rectangle([c + r * 0.6, c, c + r * 0.75, c + r * 0.4], fill=ink)
    elif name in ("cup", "bell"):
        d.pieslice([c - r * 0.8, c - r, c + r * 0.8, c + r * 0.9], 0, 180, fill=ink, outline=dark, width=8)
        d.rectangle([c - r * 0.8, c - r * 0.3, c + r * 0.8, c - r * 0.05], fill=dark)
        d.ellipse([c - r * 0.15, c + r * 0.8, c + r * 0.15, c + r * 1.05], fill=dark)
    elif name == "fish":
        d.ellipse([c - r, c - r * 0.5, c + r * 0.6, c + r * 0.5], fill=ink)
        d.polygon([(c + r * 0.4, c), (c + r, c - r * 0.5), (c + r, c + r * 0.5)], fill=dark)
        d.ellipse([c - r * 0.6, c - r * 0.2, c - r * 0.4, c], fill=(255, 255, 255))
    return im


def write_luna() -> None:
    base = HERE / "luna" / "images"
    (base / "luna").mkdir(parents=True, exist_ok=True)
    (base / "extra").mkdir(parents=True, exist_ok=True)
    formats = [("png", "PNG", {"optimize": True}), ("jpg", "JPEG", {"quality": 82}),
               ("webp", "WEBP", {"quality": 80, "method": 6})]
    sizes = [(1024, 1024), (1024, 1280), (1152, 1024)]
    for i in range(17):
        rng = random.Random(1000 + i)
        ext, fmt, options = formats[i % 3]
        image = draw_luna(rng, sizes[i % len(sizes)], flat=(fmt == "PNG"))
        image.save(base / "luna" / f"luna_{i + 1:02d}.{ext}", fmt, **options)
    captions = {1: "standing in a meadow, smiling, full body",
                5: "standing under a summer sky, looking left",
                9: "full body, pink dress, clouds behind her"}
    for number, caption in captions.items():
        (base / "luna" / f"luna_{number:02d}.txt").write_text(caption + "\n", encoding="utf-8")
    draw_luna(random.Random(77), (1024, 1024), flat=True, waving=True).save(
        base / "extra" / "wave.png", "PNG", optimize=True)


def write_fibo() -> None:
    """Luna again, for the FIBO example: flat PNGs and JSON captions (`.json` sidecars)."""
    base = HERE / "fibo" / "images"
    (base / "extra").mkdir(parents=True, exist_ok=True)
    for i in range(7):
        draw_luna(random.Random(3000 + i), (1024, 1024), flat=True).save(
            base / f"luna_{i + 1:02d}.png", "PNG", optimize=True)
    draw_luna(random.Random(3077), (1024, 1024), flat=True, waving=True).save(
        base / "extra" / "wave.png", "PNG", optimize=True)
    captions = {2: {"subject": "Luna standing in a meadow", "view": "full body", "mood": "cheerful"},
                6: {"subject": "Luna under a summer sky", "view": "looking left", "mood": "calm"}}
    for number, caption in captions.items():
        (base / f"luna_{number:02d}.json").write_text(json.dumps(caption, indent=2) + "\n", encoding="utf-8")


def write_icons() -> None:
    base = HERE / "icons" / "images"
    base.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(ICONS):
        image = draw_icon(name, random.Random(2000 + i))
        if i % 4 == 3:
            image.save(base / f"{name}.webp", "WEBP", quality=85, method=6)
        else:
            image.save(base / f"{name}.png", "PNG", optimize=True)
    (base / "star.txt").write_text("a yellow five-pointed star\n", encoding="utf-8")


if __name__ == "__main__":
    write_luna()
    write_fibo()
    write_icons()
    total = sum(p.stat().st_size for p in HERE.glob("*/images/**/*") if p.is_file())
    print(f"wrote example images: {total / 1e6:.2f} MB")
