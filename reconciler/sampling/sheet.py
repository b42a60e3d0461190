"""The contact sheet (one PNG grid) and the HTML page of a model's samples.

One row per (prompt, seed). With an older model (the one this model replaced), its images
come first and the new model's follow, so each row compares old and new image for image —
the regression review of a retrain. Missing cells (a prompt moderation refused) are grey.
"""

from __future__ import annotations

import html
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from reconciler.sampling.run import Sample

CELL = 128
LABEL_WIDTH = 180
HEADER = 22
GAP = 4
_BACKGROUND, _INK, _EMPTY, _DIVIDER = (255, 255, 255), (20, 20, 20), (225, 225, 225), (200, 40, 40)


def write_sheet(folder: Path, address: str, model_id: int, new: list[list["Sample"]],
                old: list[list["Sample"]] | None, old_id: int | None) -> Path:
    """Writes `contact-sheet.png` and `index.html` in `folder`; returns the sheet's path."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = [(f"model {old_id} (replaced)", old)] if old is not None else []
    columns.append((f"model {model_id}" + (" (new)" if old is not None else ""), new))
    sheet = folder / "contact-sheet.png"
    _draw(columns).save(sheet, format="PNG", optimize=True)
    (folder / "index.html").write_text(_page(folder, address, columns), encoding="utf-8")
    return sheet


def _draw(columns: list[tuple[str, list[list["Sample"]]]]) -> Image.Image:
    rows = len(columns[-1][1])
    widths = [len(groups[0]) if groups else 1 for _, groups in columns]
    width = LABEL_WIDTH + sum(w * (CELL + GAP) for w in widths) + GAP * len(columns)
    height = HEADER + rows * (CELL + GAP) + GAP
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    x = LABEL_WIDTH
    for (title, groups), count in zip(columns, widths):
        draw.text((x + GAP, 5), title, fill=_INK, font=font)
        for row, group in enumerate(groups):
            y = HEADER + row * (CELL + GAP)
            for index in range(count):
                _paste(canvas, group[index] if index < len(group) else None, x + index * (CELL + GAP), y)
        x += count * (CELL + GAP) + GAP
        draw.line((x - GAP // 2 - 1, 0, x - GAP // 2 - 1, height), fill=_DIVIDER, width=1)
    for row, group in enumerate(columns[-1][1]):
        label = textwrap.wrap(group[0].prompt, 28)[:6] + [f"seed {group[0].seed}"]
        draw.multiline_text((6, HEADER + row * (CELL + GAP) + 6), "\n".join(label), fill=_INK, font=font)
    return canvas


def _paste(canvas: Image.Image, sample: "Sample | None", x: int, y: int) -> None:
    if sample is None or not sample.file.is_file():
        ImageDraw.Draw(canvas).rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=_EMPTY)
        return
    with Image.open(sample.file) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail((CELL, CELL))
    canvas.paste(thumb, (x + (CELL - thumb.width) // 2, y + (CELL - thumb.height) // 2))


def _page(folder: Path, address: str, columns: list[tuple[str, list[list["Sample"]]]]) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in columns)
    rows = []
    for row, group in enumerate(columns[-1][1]):
        cells = []
        for _, groups in columns:
            images = "".join(_img(folder, s) for s in (groups[row] if row < len(groups) else ()))
            cells.append(f"<td>{images}</td>")
        label = f"{html.escape(group[0].prompt)}<br><small>seed {group[0].seed}</small>"
        rows.append(f"<tr><th scope=row>{label}</th>{''.join(cells)}</tr>")
    return (f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>Samples: {html.escape(address)}"
            "</title><style>body{font-family:sans-serif}td img{max-width:256px;margin:2px}"
            "th{text-align:left;vertical-align:top;max-width:20em}</style></head><body>"
            f"<h1>Samples: {html.escape(address)}</h1><p><img src=contact-sheet.png alt='contact sheet'></p>"
            f"<table><tr><th>prompt</th>{head}</tr>{''.join(rows)}</table></body></html>\n")


def _img(folder: Path, sample: "Sample") -> str:
    if not sample.file.is_file():
        return "<span>(none)</span>"
    src = Path(os.path.relpath(sample.file, folder)).as_posix()
    return f"<img src='{html.escape(src)}' alt='{html.escape(sample.prompt)}' loading=lazy>"
