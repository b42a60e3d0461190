"""The HTML view of a plan: one self-contained page (no network needed to view it).

Per dataset: thumbnails of the images to upload and to remove, captions old → new side by
side, the caption prefix change; per model: what will be trained and what is kept; the
same summary line as every other view, and the text outline of each change.

Rendered from the plan's JSON form like the other views. Pictures and old captions are not
in the plan; the caller passes them as `images`, keyed by content sha256 (or
`name:<image name>` for an image known only by name):
`{"label": rel path or name, "src": data URI or None, "caption_before": str or None}`.
The page carries one small inline script that records, on `<body>`, how many thumbnails
loaded (`data-thumbnails-loaded`, `data-thumbnails-total`) — for tests and curious readers.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Mapping

from reconciler.model import Op
from reconciler.render import symbols
from reconciler.render.outline import build_outline, change_block, clean
from reconciler.stepargs import (DeleteImageArgs, RegenerateAllCaptionsArgs, RegenerateCaptionArgs, SetCaptionArgs,
                                 SupersedeModelArgs, UploadImageArgs)

GENERATOR = "bria plan --format html"
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.1em;margin:0}.summary{font-weight:600;font-size:1.05em}
section.change{border:1px solid #ccd;border-radius:6px;padding:.8em 1em;margin:1em 0}
.sym{font-family:monospace;font-weight:700;margin-right:.5em}.create .sym{color:#1a7f37}
.delete .sym,.replace .sym{color:#cf222e}.update .sym{color:#9a6700}.new_version .sym{color:#8250df}
.kept{color:#8250df}.warn{color:#cf222e}.reason{color:#555}
.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;width:132px;font-size:11px;word-break:break-all}
figure img,.missing{width:128px;height:128px;object-fit:contain;background:#f3f3f3;border:1px solid #ddd}
.missing{display:flex;align-items:center;justify-content:center;color:#888;text-align:center}
.remove img{opacity:.75;outline:3px solid #cf222e}.upload img{outline:3px solid #1a7f37}
table.captions{border-collapse:collapse;width:100%}table.captions td{border-top:1px solid #eee;padding:4px;
vertical-align:top}td.old{color:#cf222e;text-decoration:line-through}td.new{color:#1a7f37}
pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:12px}
"""
_SCRIPT = """
addEventListener('load',function(){var all=document.images,ok=0,i;for(i=0;i<all.length;i++){
if(all[i].complete&&all[i].naturalWidth>0)ok++}document.body.dataset.thumbnailsLoaded=ok;
document.body.dataset.thumbnailsTotal=all.length});
"""


def render_plan(plan: Mapping[str, Any], *, images: Mapping[str, Mapping[str, Any]] | None = None,
                title: str = "bria plan") -> str:
    images = images or {}
    has = symbols.has_changes(plan)
    head = symbols.summary_line(plan) if has else symbols.no_changes_line(plan)
    parts = [f"<h1>{escape(title)}</h1>", f"<p class=summary>{escape(head)}</p>", *_callouts(plan)]
    for change in symbols.visible_changes(plan):
        parts.append(_change(change, images))
    return ("<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta name=generator content='{GENERATOR}'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body data-thumbnails-loaded=0>\n"
            + "\n".join(parts) + f"\n<script>{_SCRIPT}</script></body></html>\n")


def _callouts(plan: Mapping[str, Any]) -> list[str]:
    out = []
    refused = symbols.refused_changes(plan)
    if refused:
        out.append(_list("warn", f"{len(refused)} change(s) refused", [symbols.refusal_text(str(c.get("address")))
                                                                          for c in refused]))
    outline = build_outline(plan)
    if outline.drift:
        out.append("<h2 class=warn>Changed outside bria since the last apply</h2><pre>"
                   + escape("\n".join(f"{line.mark} {'  ' * line.depth}{line.text}" for line in outline.drift))
                   + "</pre>")
    if plan.get("notes"):
        out.append(_list("reason", "Notes", [clean(n) for n in plan["notes"]]))
    return out


def _list(cls: str, title: str, items: Iterable[str]) -> str:
    return f"<div class={cls}><b>{escape(title)}</b><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul></div>"


def _change(change: Mapping[str, Any], images: Mapping[str, Mapping[str, Any]]) -> str:
    style = symbols.style_of(change)
    address = clean(change.get("address", "?"))
    parts = [f"<section class='change {style.kind}' id='{escape(address, quote=True)}'>",
             f"<h2><span class=sym>{escape(style.symbol)}</span>{escape(address)} "
             f"{escape(symbols.verb_of(change))}</h2>"]
    reason = symbols.reason_text(change)
    if reason:
        parts.append(f"<p class=reason>reason: {escape(clean(reason))}</p>")
    if address.startswith("model."):
        parts.append(_model_summary(change))
    else:
        parts.extend(_dataset_visuals(change, images))
    lines = change_block(change, width=110, max_image_lines=0)
    parts.append("<details><summary>Details</summary><pre>" + escape("\n".join(
        f"{line.mark} {'  ' * line.depth}{line.text}" for line in lines)) + "</pre></details></section>")
    return "\n".join(parts)


def _model_summary(change: Mapping[str, Any]) -> str:
    ops = symbols.ops_of(change)
    after = change.get("after") or {}
    items = []
    if Op.START_TRAINING.value in ops:
        dataset = after.get("dataset")
        items.append(f"<li>trains{' on dataset ' + escape(clean(dataset)) if dataset else ''}"
                     f" ({escape(clean(after.get('training_version', '')))}, "
                     f"{escape(clean(after.get('training_mode', '')))})</li>")
    for step in symbols.typed_steps(change):
        if isinstance(step.args, SupersedeModelArgs):
            rid = step.args.remote_id
            items.append(f"<li class=kept>model #{escape(str(rid))} is KEPT (recorded as superseded)</li>")
    if Op.STOP_TRAINING.value in ops:
        items.append("<li class=warn>training stops (irreversible)</li>")
    if Op.DELETE_MODEL.value in ops:
        items.append("<li class=warn>a model is deleted</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _dataset_visuals(change: Mapping[str, Any], images: Mapping[str, Mapping[str, Any]]) -> list[str]:
    args = [step.args for step in symbols.typed_steps(change)]
    parts = _prefix_change(change)
    uploads = [_image(images, a.sha256, a.rel_path) for a in args if isinstance(a, UploadImageArgs)]
    removes = [_image(images, a.sha256, a.image_name) for a in args if isinstance(a, DeleteImageArgs)]
    if uploads:
        parts.append(f"<h3>Images to upload ({len(uploads)})</h3>" + _grid("upload", uploads))
    if removes:
        parts.append(f"<h3>Images to remove ({len(removes)})</h3>" + _grid("remove", removes))
    rows = [(_image(images, a.sha256, None), a.caption) for a in args if isinstance(a, SetCaptionArgs)]
    rows += [(_image(images, a.sha256, None), None) for a in args if isinstance(a, RegenerateCaptionArgs)]
    rows += [(_image(images, a.sha256, a.rel_path), a.caption) for a in args
             if isinstance(a, UploadImageArgs) and a.caption]
    if any(isinstance(a, RegenerateAllCaptionsArgs) for a in args):
        parts.append("<p class=reason>Every automatic caption is regenerated for the new prefix.</p>")
    if rows:
        parts.append(f"<h3>Captions ({len(rows)})</h3><table class=captions><tr><th></th><th>now</th>"
                     "<th>after apply</th></tr>" + "".join(_caption_row(img, new) for img, new in rows) + "</table>")
    return parts


def _prefix_change(change: Mapping[str, Any]) -> list[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    old, new = before.get("caption_prefix"), after.get("caption_prefix")
    if not isinstance(before, Mapping) or "caption_prefix" not in before or old == new:
        return []
    return ["<h3>Caption prefix</h3><table class=captions><tr>"
            f"<td class=old>{escape(clean(old))}</td><td class=new>{escape(clean(new))}</td></tr></table>"]


def _image(images: Mapping[str, Mapping[str, Any]], sha: Any, name: Any) -> Mapping[str, Any]:
    found = images.get(str(sha)) if sha else None
    if found is None and name:
        found = images.get(f"name:{name}")
    return found or {"label": clean(name or (str(sha)[:16] if sha else "?")), "src": None}


def _grid(cls: str, items: list[Mapping[str, Any]]) -> str:
    return f"<div class='grid {cls}'>" + "".join(_figure(i) for i in items) + "</div>"


def _figure(image: Mapping[str, Any]) -> str:
    return f"<figure>{_thumb(image)}<figcaption>{escape(clean(image.get('label', '')))}</figcaption></figure>"


def _thumb(image: Mapping[str, Any]) -> str:
    src, label = image.get("src"), clean(image.get("label", ""))
    if not src or not str(src).startswith("data:image/"):
        return "<div class=missing>no picture<br>(not on disk)</div>"
    return f"<img src='{escape(str(src), quote=True)}' alt='{escape(label, quote=True)}'>"


def _caption_row(image: Mapping[str, Any], new: Any) -> str:
    old = image.get("caption_before")
    new_text = escape(clean(new)) if new is not None else "<i>(the API's automatic caption)</i>"
    old_text = escape(clean(old)) if old is not None else "<i>(none)</i>"
    return (f"<tr><td>{_figure(image)}</td><td class=old>{old_text}</td><td class=new>{new_text}</td></tr>")
