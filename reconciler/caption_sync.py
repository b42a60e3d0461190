"""`bria captions pull`: the captions the API holds, written as sidecars beside the images.

Why: the API writes an automatic caption for every image; pulled into the repository they
can be read, diffed and edited in a pull request. The planner treats a caption equal to the
image's automatic caption as that automatic caption, unchanged (planner.content
`wanted_caption`), so pulling never turns captions manual; editing a pulled sidecar makes
it a manual caption, planned like any other.

Rules:
- one sidecar per image of the dataset's current version that bria uploaded (matched by
  content: the state's record, else the hash prefix in the image name). Images with an
  inline `caption:` in the manifest are skipped: the manifest is their caption's home;
- a sidecar that already holds the API's caption is left alone (nothing is rewritten);
- a sidecar that differs from the API *and* from what bria last applied (the state's
  record) *and* from every automatic caption recorded for the image (a stale pull, e.g.
  from before a caption prefix change) is an edit waiting for `bria apply`: it is kept,
  with a warning, unless `force`;
- the sidecar format follows the dataset's family: `.txt` for legacy (plain text)
  datasets, `.json` for FIBO datasets (JSON captions, written indented for review and
  compared as parsed JSON, since the API re-serialises them).

Only reads the API (list images); never writes state.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from reconciler.identity import match_images
from reconciler.images import ImageProblem, sidecar_caption
from reconciler.json_captions import json_sidecar_caption, json_sidecar_path, parse_json, same_json
from reconciler.model import FIBO_FAMILY, DatasetSpec, Manifest
from reconciler.planner.content import automatic_history
from reconciler.state.model import DatasetRecord

LEGACY = "legacy"
SIDECAR_SUFFIX = {LEGACY: ".txt", FIBO_FAMILY: ".json"}


@dataclass(frozen=True)
class CaptionUpdate:
    rel_path: str          # the sidecar, relative to the manifest's folder
    path: Path
    old: str | None        # the sidecar's text now (None: no sidecar)
    new: str               # the API's caption
    kept_local_edit: bool  # differs from the API and was never applied: kept (unless forced)


@dataclass
class PullResult:
    updates: list[CaptionUpdate] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def differing(self) -> list[CaptionUpdate]:
        return self.updates


def sidecar_for(image_path: Path, dialect: str = LEGACY) -> Path:
    suffix = SIDECAR_SUFFIX.get(dialect)
    if suffix is None:
        raise NotImplementedError(f"caption sidecars for {dialect} datasets are not supported yet")
    return image_path.with_suffix(suffix)


def compare(spec: DatasetSpec, record: DatasetRecord, live_images: Iterable[Mapping[str, Any]],
            root: Path) -> PullResult:
    """What pulling would change for one dataset (no I/O but reading the sidecars)."""
    result = PullResult()
    history = automatic_history(record)
    current = record.current
    recorded = dict(current.images) if current else {}
    live_images = list(live_images)
    # Which live image holds which content: the one matcher (recorded ids, then name prefixes).
    matched = match_images(live_images, recorded={r.remote_id: sha for sha, r in recorded.items()},
                           known_shas=[image.sha256 for image in spec.images])
    live_by_sha = {sha: live for live in live_images if (sha := matched.get(live.get("id"))) is not None}
    seen: set[str] = set()
    for image in spec.images:
        if image.sha256 in seen:
            continue
        seen.add(image.sha256)
        live = live_by_sha.get(image.sha256)
        caption = (live or {}).get("caption")
        if not isinstance(caption, str) or not caption.strip():
            continue                     # not uploaded yet, or no caption yet
        if image.caption_origin == "inline":
            result.notes.append(f"{image.rel_path}: caption is inline in the manifest; no sidecar written")
            continue
        path = sidecar_for(image.path, spec.family)
        local = _local_caption(image.path, spec.family)
        if local is not None and same_json(local, caption.strip()):
            result.unchanged += 1
            continue
        applied = recorded.get(image.sha256)
        # an automatic caption pulled earlier
        stale_pull = any(same_json(local, old) for old in history.get(image.sha256, ()))
        edit_pending = local is not None and not stale_pull and (
            applied is None or not same_json(local, (applied.caption or "").strip()))
        result.updates.append(CaptionUpdate(path.relative_to(root).as_posix() if path.is_relative_to(root)
                                            else str(path), path, local, _sidecar_text(caption, spec.family),
                                            edit_pending))
    return result


def _local_caption(image_path: Path, family: str) -> str | None:
    """The sidecar's caption now: text, or for FIBO compact JSON (a sidecar that is not valid
    JSON is somebody's unfinished edit: its raw text, which differs from every caption)."""
    if family != FIBO_FAMILY:
        return sidecar_caption(image_path)
    try:
        return json_sidecar_caption(image_path)
    except ImageProblem:
        return json_sidecar_path(image_path).read_text(encoding="utf-8", errors="replace")


def _sidecar_text(caption: str, family: str) -> str:
    """What the sidecar gets: the caption, and a FIBO caption's JSON indented for review."""
    value = parse_json(caption) if family == FIBO_FAMILY else None
    return json.dumps(value, indent=2, ensure_ascii=False) if value is not None else caption.strip()


def write_sidecar(path: Path, caption: str) -> None:
    """Atomically: a crash never leaves half a caption (which the next plan would send)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(caption + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def datasets_to_pull(manifest: Manifest, names: Iterable[str]) -> tuple[list[DatasetSpec], list[str]]:
    """The datasets named (`luna_v1` or `dataset.luna_v1`; all when none), and unknown names."""
    keys = [n.removeprefix("dataset.") for n in names] or list(manifest.datasets)
    unknown = [f"dataset.{k}" for k in keys if k not in manifest.datasets]
    return [manifest.datasets[k] for k in keys if k in manifest.datasets], unknown
