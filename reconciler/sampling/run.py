"""Generate a model's samples, download them, and keep them keyed by model id.

Layout under the samples folder (default `<manifest folder>/.bria/samples`):

    <model id>/<sample name>.png     one image per (prompt, seed, variant, parameters)
    <model id>/contact-sheet.png     the grid (old model | new model when it replaced one)
    <model id>/index.html            the same as a page

A sample's file name is a digest of everything that shapes the image (prompt, seed,
generation fields) plus the variant, so a file that exists is that sample: a re-run
reuses it (no request, no download); a changed prompt or parameter is a new file.
A model id never changes meaning (the API never reuses ids), so files never go stale.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from reconciler.api import ApiError, BriaClient, NotFound, ValidationError
from reconciler.model import Manifest, SamplesSpec
from reconciler.samples_spec import FIBO, api_fields
from reconciler.state.model import State
from reconciler.status import ModelStatus

COMPLETED = ModelStatus.COMPLETED   # only a trained model can generate
MODERATED = 422           # the status the API answers a prompt its moderation blocks


class ModelNotReady(Exception):
    """The model cannot generate yet (not trained, training, failed, …)."""


@dataclass(frozen=True)
class ModelRef:
    remote_id: int
    training_version: str


@dataclass(frozen=True)
class SampleTarget:
    address: str
    spec: SamplesSpec
    current: ModelRef
    previous: ModelRef | None = None     # the model this one replaced (superseded), if any


@dataclass(frozen=True)
class Sample:
    prompt: str
    seed: int
    variant: int
    file: Path


@dataclass
class SampleReport:
    generated: int = 0         # generation requests made
    downloaded: int = 0        # files downloaded
    reused: int = 0            # files already there
    sheets: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_samples_dir(manifest: Manifest) -> Path:
    return manifest.root / ".bria" / "samples"


def targets_from(manifest: Manifest, state: State, addresses: Sequence[str]) -> tuple[list[SampleTarget], list[str]]:
    """The targets for `addresses` (all models with `samples:` when empty), and the problems
    (an address that is not a model with samples, a model bria has not created yet)."""
    problems: list[str] = []
    keys = [a.removeprefix("model.") for a in addresses] or [k for k, m in manifest.models.items() if m.samples]
    targets = []
    for key in keys:
        spec, record = manifest.models.get(key), state.models.get(key)
        if spec is None:
            problems.append(f"model.{key}: no such model in the manifest")
        elif spec.samples is None:
            problems.append(f"model.{key}: has no samples: block in the manifest")
        elif record is None:
            problems.append(f"model.{key}: not created yet (run bria apply first)")
        else:
            old = next((s for s in reversed(record.superseded) if s.status == COMPLETED), None)
            previous = ModelRef(old.remote_id, old.training_version) if old else None
            targets.append(SampleTarget(f"model.{key}", spec.samples, ModelRef(record.remote_id,
                                        record.training_version), previous))
    return targets, problems


def sample_name(prompt: str, seed: int, variant: int, fields: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([prompt, seed, fields], sort_keys=True).encode()).hexdigest()[:16]
    return f"{digest}-s{seed}-{variant}.png"


def planned_samples(folder: Path, spec: SamplesSpec, training_version: str) -> list[list[Sample]]:
    """Per (prompt, seed), in manifest order: the samples (one per variant)."""
    fields = api_fields(spec, training_version)
    variants = 1 if training_version == FIBO else spec.count
    return [[Sample(prompt, seed, v, folder / sample_name(prompt, seed, v, fields)) for v in range(variants)]
            for prompt in spec.prompts for seed in spec.seeds]


async def model_status(client: BriaClient, model: ModelRef) -> str | None:
    """The model's live status, or None when it no longer exists."""
    try:
        return str((await client.get_model(model.remote_id)).get("status"))
    except NotFound:
        return None


async def run_samples(client: BriaClient, targets: Sequence[SampleTarget], out_dir: Path,
                      echo: Callable[[str], None] = lambda _: None) -> SampleReport:
    """Generate what is missing for every target and draw their sheets. Raises ModelNotReady
    (after the ready targets are done) naming every target that is not Completed."""
    from reconciler.sampling.sheet import write_sheet

    report, not_ready = SampleReport(), []
    for target in targets:
        status = await model_status(client, target.current)
        if status != COMPLETED:
            not_ready.append(f"{target.address} (model {target.current.remote_id}) is "
                             f"{status or 'gone from the API'}, not Completed: it cannot generate samples yet")
            continue
        new = await _sample_model(client, target.spec, target.current, out_dir, report)
        old = None
        if target.previous is not None:
            if await model_status(client, target.previous) == COMPLETED:
                old = await _sample_model(client, target.spec, target.previous, out_dir, report)
            else:
                report.notes.append(f"{target.address}: the model it replaced ({target.previous.remote_id}) "
                                    "cannot generate any more; the sheet shows the new model only")
        sheet = write_sheet(out_dir / str(target.current.remote_id), target.address, target.current.remote_id,
                            new, old, target.previous.remote_id if old else None)
        report.sheets.append(sheet)
        echo(f"{target.address}: {sheet}")
    if not_ready:
        raise ModelNotReady("\n".join(not_ready))
    return report


async def _sample_model(client: BriaClient, spec: SamplesSpec, model: ModelRef, out_dir: Path,
                        report: SampleReport) -> list[list[Sample]]:
    folder = out_dir / str(model.remote_id)
    groups = planned_samples(folder, spec, model.training_version)
    missing = [group for group in groups if not all(s.file.is_file() for s in group)]
    report.reused += sum(1 for group in groups for s in group if s.file.is_file())
    fields = api_fields(spec, model.training_version)
    await asyncio.gather(*(_generate(client, model, group, fields, report) for group in missing))
    return groups


async def _generate(client: BriaClient, model: ModelRef, group: list[Sample], fields: dict[str, Any],
                    report: SampleReport) -> None:
    """One generation request for one (prompt, seed); writes its variants."""
    first = group[0]
    body = {**fields, "prompt": first.prompt, "seed": first.seed}
    report.generated += 1
    try:
        if model.training_version == FIBO:
            images = [await client.generate_fibo(model.remote_id, body)]
        else:
            images = await client.generate_legacy(model.remote_id, body)
    except ValidationError as exc:
        if exc.status != MODERATED:
            raise
        report.notes.append(f"model {model.remote_id}: prompt {first.prompt!r} (seed {first.seed}) was refused "
                            f"by content moderation: {exc.message}")
        return
    if len(images) < len(group):
        raise ApiError(f"asked for {len(group)} images, the API returned {len(images)}",
                       method="POST", path=f"generation for model {model.remote_id}")
    for sample, image in zip(group, images):
        if sample.file.is_file():
            continue
        data = await client.download_generated(image.url)
        _write_atomically(sample.file, data)
        report.downloaded += 1


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader (or a re-run) never sees half an image: write a temporary file, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
