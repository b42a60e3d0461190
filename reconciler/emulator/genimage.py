"""Deterministic stand-ins for Bria's generated images.

An image is a pure function of (model id, prompt, seed, aspect ratio, variant): the model
picks the palette and the pattern family, prompt and seed place the shapes. So the same
request always gives the same bytes (a re-run can be checked), and an old and a new model
given the same prompt and seed differ visibly (the point of a regression contact sheet).

Images are small (`LONG_SIDE` pixels on the long side) to keep the emulator fast; the real
API returns ~1 MP images. Only Pillow is used.
"""

from __future__ import annotations

import colorsys
import hashlib
import io

from PIL import Image, ImageDraw, ImageFont

LONG_SIDE = 256
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9")


def image_size(aspect_ratio: str) -> tuple[int, int]:
    """(width, height) with the long side LONG_SIDE, e.g. "16:9" → (256, 144)."""
    w, h = (int(part) for part in aspect_ratio.split(":"))
    if w >= h:
        return LONG_SIDE, max(1, round(LONG_SIDE * h / w))
    return max(1, round(LONG_SIDE * w / h)), LONG_SIDE


def _palette(model_id: int) -> list[tuple[int, int, int]]:
    """Four colours around one hue chosen by the model id."""
    hue = int(hashlib.sha256(f"model:{model_id}".encode()).hexdigest()[:4], 16) / 0xFFFF
    colours = []
    for step, (light, sat) in enumerate(((0.85, 0.35), (0.55, 0.75), (0.35, 0.8), (0.6, 0.55))):
        r, g, b = colorsys.hls_to_rgb((hue + 0.08 * step) % 1.0, light, sat)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def render_png(model_id: int, prompt: str, seed: int, aspect_ratio: str, variant: int = 0) -> bytes:
    """The PNG bytes of one generated image."""
    width, height = image_size(aspect_ratio)
    digest = hashlib.sha256(f"{model_id}|{prompt}|{seed}|{variant}".encode("utf-8", "replace")).digest()
    background, *inks = _palette(model_id)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    circles = model_id % 2 == 0          # the model also picks the pattern family
    for index in range(6):
        x, y = digest[index * 4] * width // 256, digest[index * 4 + 1] * height // 256
        radius = 12 + digest[index * 4 + 2] * min(width, height) // 640
        box = (x - radius, y - radius, x + radius, y + radius)
        ink = inks[digest[index * 4 + 3] % len(inks)]
        if circles:
            draw.ellipse(box, fill=ink)
        else:
            draw.rectangle(box, fill=ink)
    font = ImageFont.load_default()
    draw.rectangle((0, height - 14, width, height), fill=(255, 255, 255))
    draw.text((3, height - 13), f"model {model_id} · seed {seed}"[:40], fill=(0, 0, 0), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
