"""A dataset version's content — images, captions, caption prefix or visual schema — and
the steps that turn what a version holds into what the manifest wants.

FIBO datasets: the visual schema is set before any upload (so each caption is made once);
a schema change on a draft regenerates every caption; captions and schemas are compared as
parsed JSON (the API re-serialises them); an image still waiting for its caption
(`caption_source: pending`, uploaded before the schema existed) is captioned by a
regeneration once the schema is there.

Images are identified by sha256. Live images are matched back to content by their remote id
(recorded in state) or by the hash prefix bria embeds in every `image_name` — matched
against the content state recorded, the manifest wants, or a journaled upload whose
response was lost (bria's own image: adopted, never deleted).

Stray images. Anything else in a dataset bria manages — an image uploaded in the console
(no bria-style name, or one naming content bria neither recorded nor wants), a second copy
of one content, a state record bria could only key as `unknown-<id>` — is a STRAY. A
dataset bria manages holds exactly the manifest's images, so that a model trained on it is
reproducible from git: strays are drift, and they are removed. On a draft they are deleted
in place (DELETE_IMAGE by remote id); a completed version is frozen, so they are left out
of the next version (DELETE_IMAGE on its clone) — when there is one: see
datasets._plan_completed for when a stray alone makes a new version.

Step batches: the executor runs consecutive image steps (upload, delete, set/regenerate
caption) concurrently, so within one batch no two steps touch the same image. That is why
a new image's manual caption travels in its UPLOAD_IMAGE args instead of a SET_CAPTION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from reconciler.identity import id_order, is_content_key, match_images
from reconciler.json_captions import same_json
from reconciler.limits import MAX_PREFIX_IMAGES, MAX_SCHEMA_IMAGES
from reconciler.model import AUTO_PREFIX, AUTO_SCHEMA, DatasetSpec, ImageChanges, ImageSpec, Op, Step
from reconciler.state.model import DatasetRecord, DatasetVersion
from reconciler.stepargs import (DeleteImageArgs, GeneratePrefixArgs, GenerateVisualSchemaArgs,
                                  RegenerateAllCaptionsArgs, RegenerateCaptionArgs, SetCaptionArgs,
                                  SetCaptionPrefixArgs, SetVisualSchemaArgs, UploadImageArgs)

PENDING = "pending"
UNKNOWN = object()   # "we don't know the current prefix" (a version that does not exist yet)


@dataclass(frozen=True)
class ActualImage:
    sha256: str
    remote_id: int | None
    image_name: str
    caption: str | None
    caption_source: str


@dataclass(frozen=True)
class StrayImage:
    """An image of a remote version that is not manifest content bria put there (see above)."""

    remote_id: int | None
    image_name: str                                   # "" when the API has none

    @property
    def label(self) -> str:
        return self.image_name or f"id {self.remote_id}"


@dataclass(frozen=True)
class ActualVersion:
    """A remote dataset version as the planner sees it (live when fetched, else from state)."""

    remote_id: int
    name: str
    status: str
    caption_prefix: str | None
    images: Mapping[str, ActualImage]                 # sha256 → image
    strays: tuple[StrayImage, ...] = ()               # in (image_name, remote id) order
    images_from_live: bool = False
    # sha256 → every automatic caption state recorded for that image in this dataset's chain
    # (see `automatic_history`): a pulled caption that is one of them is not a manual caption.
    automatic_history: Mapping[str, frozenset[str]] = field(default_factory=dict)
    visual_schema: str | None = None                  # FIBO datasets

    def summary(self) -> dict[str, Any]:
        manual = sum(1 for i in self.images.values() if i.caption_source == "manual")
        if self.visual_schema is not None:
            return {"remote_id": self.remote_id, "name": self.name, "status": self.status,
                    "visual_schema": self.visual_schema, "images": len(self.images) + len(self.strays),
                    "captions": caption_counts(manual, len(self.images) + len(self.strays) - manual)}
        return {"remote_id": self.remote_id, "name": self.name, "status": self.status,
                "caption_prefix": self.caption_prefix, "images": len(self.images) + len(self.strays),
                "captions": caption_counts(manual, len(self.images) + len(self.strays) - manual)}


def caption_counts(manual: int, automatic: int) -> str:
    """"2 manual, 5 automatic": how a dataset's captions are made (shown in plans)."""
    return f"{manual} manual, {automatic} automatic"


def version_from_state(version: DatasetVersion) -> ActualVersion:
    images: dict[str, ActualImage] = {}
    strays: list[StrayImage] = []
    for key, r in version.images.items():     # one pass: thousands of images per dataset
        if is_content_key(key):
            images[key] = ActualImage(key, r.remote_id, r.image_name, r.caption, r.caption_source)
        else:
            strays.append(StrayImage(r.remote_id, r.image_name))
    return ActualVersion(version.remote_id, version.name, version.status, version.caption_prefix, images,
                         _ordered(strays), visual_schema=version.visual_schema)


def version_from_live(live: Mapping[str, Any], recorded: DatasetVersion, known_shas: Iterable[str],
                      base: ActualVersion | None = None) -> ActualVersion:
    """Merge the live dataset with what state recorded for it.

    `known_shas`: content that is bria's besides the recorded images (the manifest's, and
    journaled uploads whose response was lost). List responses carry no images; then the
    recorded images stand (a completed version is frozen, so they cannot have changed).
    `base`: `version_from_state(recorded)`, when the caller has it already."""
    base = base or version_from_state(recorded)
    name, status = live.get("name", base.name), live.get("status", base.status)
    prefix = live.get("caption_prefix", base.caption_prefix)
    schema = live.get("visual_schema", base.visual_schema)
    if "images" not in live:
        return ActualVersion(base.remote_id, name, status, prefix, base.images, base.strays, visual_schema=schema)
    by_remote_id = {r.remote_id: key for key, r in recorded.images.items()}
    matched = match_images(live["images"], recorded=by_remote_id, known_shas=[*base.images, *known_shas])
    images: dict[str, ActualImage] = {}
    strays: list[StrayImage] = []
    # In the order the matcher gave precedence to: recorded images first, then the others.
    for img in sorted(live["images"], key=lambda i: (i.get("id") not in by_remote_id, id_order(i.get("id")))):
        name_, sha = img.get("image_name") or "", matched[img.get("id")]
        if sha is None:
            strays.append(StrayImage(img.get("id"), name_))
            continue
        images[sha] = ActualImage(sha, img.get("id"), name_, img.get("caption"),
                                  img.get("caption_source") or "unknown")
    return ActualVersion(base.remote_id, name, status, prefix, images, _ordered(strays), True, visual_schema=schema)


def _ordered(strays: Iterable[StrayImage]) -> tuple[StrayImage, ...]:
    return tuple(sorted(strays, key=lambda s: (s.image_name, id_order(s.remote_id))))


def choose_prefix_images(images: Iterable[ImageSpec]) -> list[ImageSpec]:
    """≤6 images evenly spaced over the images sorted by sha256 (stable across file renames)."""
    ordered = sorted({i.sha256: i for i in images}.values(), key=lambda i: i.sha256)
    count = min(MAX_PREFIX_IMAGES, len(ordered))
    return [ordered[i * len(ordered) // count] for i in range(count)]


def prefix_steps(spec: DatasetSpec, current: str | None | object, pinned: str | None,
                 regenerate: bool = False) -> tuple[Step, ...]:
    """Steps that make the version's caption prefix what the manifest asks (maybe none).

    `caption_prefix: auto` generates a prefix once and pins it in state; later plans only
    re-apply the pinned one. `regenerate` ignores the pin (the project's ip fields changed).

    No `caption_prefix` (None) means the prefix is not managed by bria, like an optional
    attribute the API computes: whatever the dataset holds — the API's default, a prefix
    bria set before the field was removed, one changed in the console — is left alone and
    is not drift. Going "back to the default" is not something the API offers (the default
    is built server-side from the project when a dataset is created), and chasing it would
    regenerate every caption for no stated intent.
    """
    wanted = spec.caption_prefix
    if wanted is None:
        return ()
    if wanted != AUTO_PREFIX:
        return () if current == wanted else (Step(Op.SET_CAPTION_PREFIX, SetCaptionPrefixArgs(wanted)),)
    if pinned is not None and not regenerate:
        return () if current == pinned else (Step(Op.SET_CAPTION_PREFIX, SetCaptionPrefixArgs(pinned)),)
    chosen = choose_prefix_images(spec.images)
    if not chosen:
        return ()
    return (Step(Op.GENERATE_PREFIX, GeneratePrefixArgs(tuple(i.sha256 for i in chosen),
                                                        tuple(i.rel_path for i in chosen))),
            Step(Op.SET_CAPTION_PREFIX, SetCaptionPrefixArgs(None)))


def choose_schema_images(images: Iterable[ImageSpec]) -> list[ImageSpec]:
    """5–10 images (as many as there are, up to 10) evenly spaced over the images sorted by
    sha256: the same set whatever the files are called or listed in."""
    ordered = sorted({i.sha256: i for i in images}.values(), key=lambda i: i.sha256)
    count = min(MAX_SCHEMA_IMAGES, len(ordered))
    return [ordered[i * len(ordered) // count] for i in range(count)] if count else []


def schema_steps(spec: DatasetSpec, current: str | None | object, pinned: str | None) -> tuple[Step, ...]:
    """Steps that make the version's visual schema what the manifest asks (maybe none).

    `visual_schema: auto` generates the schema once and pins it in state, like
    `caption_prefix: auto`; a schema from a file or mapping is set literally. Compared as
    parsed JSON, since the API stores it re-serialised."""
    wanted = spec.visual_schema
    if wanted is None:
        return ()
    if wanted != AUTO_SCHEMA:
        return () if current is not UNKNOWN and same_json(current, wanted) else (
            Step(Op.SET_VISUAL_SCHEMA, SetVisualSchemaArgs(wanted)),)
    if pinned is not None:
        return () if current is not UNKNOWN and same_json(current, pinned) else (
            Step(Op.SET_VISUAL_SCHEMA, SetVisualSchemaArgs(None)),)
    chosen = choose_schema_images(spec.images)
    return (Step(Op.GENERATE_VISUAL_SCHEMA, GenerateVisualSchemaArgs(tuple(i.sha256 for i in chosen),
                                                                  tuple(i.rel_path for i in chosen))),
            Step(Op.SET_VISUAL_SCHEMA, SetVisualSchemaArgs(None)))


def upload_step(image: ImageSpec, increase_resolution: bool,
                history: Mapping[str, frozenset[str]] | None = None) -> Step:
    return Step(Op.UPLOAD_IMAGE, UploadImageArgs(image.sha256, image.rel_path, image.image_name, increase_resolution,
                                                 wanted_caption(image, None, history)))


def desired_images(spec: DatasetSpec) -> dict[str, ImageSpec]:
    """sha256 → the first image with that content, in manifest order."""
    images: dict[str, ImageSpec] = {}
    for image in spec.images:
        images.setdefault(image.sha256, image)
    return images


def automatic_history(record: DatasetRecord | None) -> dict[str, frozenset[str]]:
    """sha256 → the automatic captions state recorded for the image in any version of the
    dataset (stripped). After a caption prefix change the API's automatic captions change,
    and a sidecar pulled before still holds the old one: that is a stale pull, not an edit."""
    found: dict[str, set[str]] = {}
    for version in record.versions if record else ():
        for sha, image in version.images.items():
            if image.caption_source == "automatic" and image.caption:
                found.setdefault(sha, set()).add(image.caption.strip())
    return {sha: frozenset(captions) for sha, captions in found.items()}


def wanted_caption(image: ImageSpec, actual: ActualImage | None,
                   history: Mapping[str, frozenset[str]] | None = None) -> str | None:
    """The manual caption the manifest asks for, or None for "the API's automatic caption".

    THE PULLED-CAPTION RULE. A caption equal to the automatic caption the image holds (as
    recorded or read live), or to an automatic caption state recorded for it earlier in the
    dataset's chain (`automatic_history`), IS the automatic caption, unchanged:
    `bria captions pull` writes the API's captions, automatic ones included, as sidecars for
    review, and pulling must never turn captions manual (and retrain every model). Editing
    such a sidecar makes it a manual caption. (A manual caption that repeats an automatic
    one word for word would train the same; write it differently to make it manual.)"""
    if image.caption is None:
        return None
    if (actual is not None and actual.caption_source == "automatic"
            and same_json(image.caption, (actual.caption or "").strip())):
        return None
    if any(same_json(image.caption, old) for old in (history or {}).get(image.sha256, ())):
        return None
    return image.caption


def _caption_needs_set(image: ImageSpec, actual: ActualImage,
                       history: Mapping[str, frozenset[str]] | None = None) -> bool:
    caption = wanted_caption(image, actual, history)
    return caption is not None and (not same_json(actual.caption, caption)
                                    or actual.caption_source in ("automatic", PENDING))


@dataclass(frozen=True)
class ContentPlan:
    steps: tuple[Step, ...] = ()
    images: ImageChanges = field(default_factory=ImageChanges)

    @property
    def empty(self) -> bool:
        return not self.steps


def stray_delete_steps(actual: ActualVersion) -> list[Step]:
    """DELETE_IMAGE for each stray of `actual`, by its remote id in that version.

    On a clone of `actual` (a new version made in the same change) the image to delete is
    the clone's copy, which has another id: the executor finds it by image name, and
    `copy_index` — the stray's rank among the strays of that name in `actual`, in id order —
    picks one distinct copy per step, so the steps of one concurrent batch never collide."""
    steps: list[Step] = []
    seen: dict[str, int] = {}
    for stray in actual.strays:
        index = seen[stray.image_name] = seen.get(stray.image_name, -1) + 1
        steps.append(Step(Op.DELETE_IMAGE, DeleteImageArgs(stray.image_name, remote_id=stray.remote_id,
                                                           dataset_remote_id=actual.remote_id, copy_index=index)))
    return steps


def content_plan(spec: DatasetSpec, actual: ActualVersion, pinned: str | None,
                 pinned_schema: str | None = None) -> ContentPlan:
    """Steps that turn the draft (or fresh clone of) `actual` into the manifest's content:
    strays go first (see the module doc), then bria's own images the manifest dropped."""
    wanted = desired_images(spec)
    deletes = [actual.images[sha] for sha in sorted(set(actual.images) - set(wanted))]
    uploads = [img for sha, img in wanted.items() if sha not in actual.images]
    kept = [img for sha, img in wanted.items() if sha in actual.images]
    prefix = prefix_steps(spec, actual.caption_prefix, pinned) + schema_steps(spec, actual.visual_schema, pinned_schema)
    history = actual.automatic_history
    # Images still waiting for their caption (uploaded before the schema) are captioned by a
    # regeneration, unless a manual caption is set on them anyway.
    pending = [i for i in kept if actual.images[i.sha256].caption_source == PENDING
               and wanted_caption(i, actual.images[i.sha256], history) is None]
    regenerate_all = (bool(prefix) and bool(kept)) or bool(pending)
    set_caption = [i for i in kept if _caption_needs_set(i, actual.images[i.sha256], history)]
    regenerate = [i for i in kept if wanted_caption(i, actual.images[i.sha256], history) is None
                  and actual.images[i.sha256].caption_source == "manual"]
    steps = stray_delete_steps(actual)
    steps.extend(Step(Op.DELETE_IMAGE, DeleteImageArgs(d.image_name, d.sha256)) for d in deletes)
    steps.extend(prefix)
    if regenerate_all:
        # Regenerating makes every caption automatic: manual ones are set again afterwards.
        steps.append(Step(Op.REGENERATE_ALL_CAPTIONS, RegenerateAllCaptionsArgs()))
    steps.extend(upload_step(i, spec.increase_resolution, history) for i in uploads)
    recaption = ([i for i in kept if wanted_caption(i, actual.images[i.sha256], history) is not None]
                 if regenerate_all else set_caption)
    steps.extend(Step(Op.SET_CAPTION, SetCaptionArgs(i.sha256, i.caption or "")) for i in recaption)
    if not regenerate_all:
        steps.extend(Step(Op.REGENERATE_CAPTION, RegenerateCaptionArgs(i.sha256)) for i in regenerate)
    changes = ImageChanges(upload=tuple(i.rel_path for i in uploads),
                           delete=tuple([s.label for s in actual.strays] + [d.image_name for d in deletes]),
                           caption=tuple(i.rel_path for i in set_caption),
                           regenerate=tuple(i.rel_path for i in regenerate),
                           caption_values={i.rel_path: {"old": actual.images[i.sha256].caption, "new": i.caption}
                                           for i in [*set_caption, *regenerate]})
    return ContentPlan(tuple(steps), changes)
