"""The images of one dataset: manifest entries → checked ImageSpecs, with diagnostics.

Part of `load_manifest`: it runs on datasets that passed the JSON Schema, and reports every
problem with the line/column of the entry (`folder:` or `file:`) that brought the file in.

Order of work, so that a bad dataset costs little:
1. resolve entries to file paths (listing folders reads no file contents), refusing paths
   that leave the manifest's folder — lexically (`..`) or through a symlink;
   A file named by a `file:` entry that a `folder:` entry also covers is taken from the
   `file:` entry (its caption wins) and not listed twice. A `.txt` in a listed folder with
   no image of its stem beside it (an orphaned sidecar, e.g. left by `git mv` of its image)
   is a warning naming it: its caption is not used;
2. count: more than 200 images is reported at once, without hashing or decoding any file;
3. only then hash and check the images (through the HashCache; all of a dataset's files at
   once, see `inspect_with_captions`), read sidecar captions (on the same pool), and report
   sizes the API would refuse and the same content listed twice.

`DatasetsAhead` does steps 1–2 for every dataset of a manifest before its schema is checked
and starts step 3's reading on the pool, so that reading overlaps the rest of the loading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.diagnostics import Diagnostic, SourceRange, error, warning
from reconciler.images import (IMAGE_SUFFIXES, Caption, CaptionReader, HashCache, ImageInfo, ImageProblem,
                               ReadAhead, Unread, image_spec, inspect_with_captions, list_folder, no_sidecar,
                               orphaned_sidecars, relative_posix, sidecar_caption, sidecar_may_exist, sidecar_path,
                               size_problem)
from reconciler.json_captions import compact_json, json_sidecar_caption, parse_json_object
from reconciler.limits import MAX_IMAGES_PER_DATASET
from reconciler.model import ImageSpec, address
from reconciler.yamlsource import FieldPath, SourceMap, json_path


@dataclass(frozen=True)
class _Candidate:
    path: Path                      # absolute, normalised, symlinks not resolved
    inline_caption: str | None
    from_file_entry: bool               # named by a `file:` entry (else found in a `folder:`)
    field: FieldPath                    # path of the entry's folder/file value in the manifest
    source: SourceRange
    sidecar_listed: bool | None = None  # whether its folder's listing shows a .txt sidecar; None: unknown


@dataclass(frozen=True)
class DatasetImages:
    images: tuple[ImageSpec, ...]
    diagnostics: list[Diagnostic]
    count: int                      # files found, even when too many to check


class _Collector:
    def __init__(self, key: str, root: Path, source_map: SourceMap, fibo: bool = False):
        self.fibo = fibo   # FIBO datasets: JSON captions (inline mapping/JSON text, .json sidecars)
        self.key = key
        self.root = root
        self.map = source_map
        self.address = address("dataset", key)
        self.diagnostics: list[Diagnostic] = []

    def fail(self, message: str, field: FieldPath, source: SourceRange | None = None) -> None:
        self.diagnostics.append(error(message, source or self.map.key_or_value(field),
                                      json_path(field), self.address))

    def warn(self, message: str, field: FieldPath) -> None:
        self.diagnostics.append(warning(message, self.map.key_or_value(field), json_path(field),
                                        self.address))

    def rel(self, path: Path) -> str:
        return relative_posix(path, self.root)

    def inside(self, raw: str, path: Path, field: FieldPath) -> bool:
        """False (and a diagnostic) when `path` leaves the manifest's folder."""
        if not path.is_relative_to(self.root):
            self.fail(f"{raw!r} is outside the manifest's folder {self.root}; images must "
                      "live beside the manifest", field)
            return False
        real = path.resolve()
        if not real.is_relative_to(self.root):
            self.fail(f"{self.rel(path)!r} resolves through a symlink to {real}, outside the "
                      "manifest's folder; images must live beside the manifest", field)
            return False
        return True

    def entry(self, index: int, entry: dict[str, Any]) -> list[_Candidate]:
        kind = "folder" if "folder" in entry else "file"
        raw = entry[kind]
        field = ("datasets", self.key, "images", index, kind)
        source = self.map.key_or_value(field)
        path = Path(os.path.normpath(self.root / raw))
        if not self.inside(raw, path, field):
            return []
        if kind == "file":
            caption = self.inline_caption(entry.get("caption"), ("datasets", self.key, "images", index, "caption"))
            return self.file_entry(raw, path, caption, field, source)
        return self.folder_entry(raw, path, bool(entry.get("recursive", False)), field, source)

    def inline_caption(self, caption: Any, field: FieldPath) -> str | None:
        """The caption as bria keeps it: text (legacy) or compact JSON text (FIBO)."""
        if caption is None:
            return None
        if not self.fibo:
            if isinstance(caption, dict):
                self.fail("a mapping caption is a JSON caption, only for FIBO datasets (with "
                          "visual_schema); a legacy dataset's caption is text", field)
                return None
            return caption
        if isinstance(caption, dict):
            return compact_json(caption)
        value, problem = parse_json_object(caption)
        if problem:
            self.fail(f"captions of a FIBO dataset are JSON; this one is not ({problem}); write "
                      "it as a mapping or as a string holding a JSON object", field)
            return None
        return compact_json(value)

    def file_entry(self, raw: str, path: Path, caption: str | None, field: FieldPath,
                   source: SourceRange) -> list[_Candidate]:
        if not path.exists():
            self.fail(f"image file {raw!r} not found", field)
            return []
        if not path.is_file():
            self.fail(f"{raw!r} is not a file (use `folder:` for a folder of images)", field)
            return []
        return [_Candidate(path, caption, True, field, source)]

    def folder_entry(self, raw: str, path: Path, recursive: bool, field: FieldPath,
                     source: SourceRange) -> list[_Candidate]:
        if not path.exists():
            self.fail(f"image folder {raw!r} not found", field)
            return []
        if not path.is_dir():
            self.fail(f"{raw!r} is not a folder (use `file:` for a single image)", field)
            return []
        symlinks: set[Path] = set()
        try:
            files = list_folder(path, recursive, symlinks)
        except OSError as exc:
            self.fail(f"cannot list folder {raw!r}: {exc.strerror}", field)
            return []
        if not files:
            where = " or its sub-folders" if recursive else ""
            self.fail(f"image folder {raw!r}{where} has no images ({', '.join(IMAGE_SUFFIXES)})", field)
            return []
        listed = self.report_orphans(path, recursive, files, field)
        # The folder itself resolved inside the root, so only symlinked files can leave it.
        return [_Candidate(f, None, False, field, source, None if listed is None else sidecar_may_exist(f, listed))
                for f in files if f not in symlinks or self.inside(self.rel(f), f, field)]

    def report_orphans(self, folder: Path, recursive: bool, images: list[Path], field: FieldPath) -> set[str] | None:
        """Warn of orphaned sidecars; the `.txt` names the listing found (None if it failed)."""
        listed: set[str] = set()
        try:
            orphans = orphaned_sidecars(folder, recursive, images, listed)
        except OSError:
            return None                 # the folder listed a moment ago; a warning is not worth a failure
        for orphan in orphans:
            self.warn(f"{self.rel(orphan)} is a caption file with no image of the same name beside it "
                      f"(was its image renamed or moved?); it is not used", field)
        return listed

    def caption_reader(self, candidate: _Candidate) -> CaptionReader | None:
        """How this candidate's sidecar caption is read; None when its entry gives one."""
        if candidate.inline_caption is not None:
            return None
        if self.fibo:
            return json_sidecar_caption
        return no_sidecar if candidate.sidecar_listed is False else sidecar_caption

    def check(self, candidate: _Candidate, inspected: ImageInfo | ImageProblem,
              increase_resolution: bool, read: Caption = Unread.CAPTION) -> ImageSpec | None:
        """The ImageSpec, or None and a diagnostic. `read` is the sidecar caption when the
        pool read it already (see `inspect_with_captions`)."""
        rel = self.rel(candidate.path)
        try:
            if isinstance(inspected, ImageProblem):
                raise inspected
            info = inspected
            reader = self.caption_reader(candidate)
            sidecar = None if reader is None else reader(candidate.path) if read is Unread.CAPTION else read
            if isinstance(sidecar, ImageProblem):
                raise sidecar
        except ImageProblem as problem:
            self.fail(f"{rel} {problem}", candidate.field, candidate.source)
            return None
        too_small = size_problem(info, increase_resolution)
        if too_small:
            self.fail(f"{rel} {too_small}", candidate.field, candidate.source)
            return None
        caption, origin = ((candidate.inline_caption, "inline") if candidate.inline_caption is not None
                           else (sidecar, "sidecar"))
        if self.fibo and caption is None and sidecar_path(candidate.path).exists():
            self.diagnostics.append(warning(
                f"{rel}: its caption file {sidecar_path(candidate.path).name} is ignored: a FIBO dataset's "
                f"captions are JSON ({candidate.path.with_suffix('.json').name}), so the API captions it",
                candidate.source, json_path(candidate.field), self.address))
        return image_spec(candidate.path, self.root, info, caption, origin, candidate.source, rel)


@dataclass(frozen=True)
class Resolution:
    """A dataset's entries resolved to files (step 1 and 2 of the module doc), not yet read."""
    collector: _Collector
    candidates: list[_Candidate]
    too_many: bool


def resolve_dataset_images(key: str, dataset: dict[str, Any], root: Path, source_map: SourceMap) -> Resolution:
    """Resolve a dataset's `images:` entries to files and count them; reads no file contents."""
    collector = _Collector(key, root, source_map, fibo="visual_schema" in dataset)
    candidates: list[_Candidate] = []
    for index, entry in enumerate(dataset.get("images") or []):
        candidates.extend(collector.entry(index, entry))
    candidates = _file_entries_win(candidates)
    too_many = len(candidates) > MAX_IMAGES_PER_DATASET
    if too_many:
        collector.fail(f"dataset has {len(candidates)} images; the API accepts at most "
                       f"{MAX_IMAGES_PER_DATASET} per dataset (split it into several datasets)",
                       ("datasets", key, "images"))
    return Resolution(collector, candidates, too_many)


def collect_dataset_images(key: str, dataset: dict[str, Any], root: Path, source_map: SourceMap,
                           cache: HashCache | None = None, ahead: DatasetsAhead | None = None) -> DatasetImages:
    """Resolve and check the `images:` of a schema-valid dataset. `root` must be resolved.
    A dataset with `visual_schema` is FIBO: its captions are JSON. `ahead`, when it resolved
    this very dataset already, spares resolving it again and holds its files' reads."""
    resolution = ahead.resolution(key, dataset) if ahead is not None else None
    resolution = resolution or resolve_dataset_images(key, dataset, root, source_map)
    collector, candidates = resolution.collector, resolution.candidates
    if resolution.too_many:
        return DatasetImages((), collector.diagnostics, len(candidates))
    increase_resolution = bool(dataset.get("increase_resolution", True))
    specs: list[ImageSpec] = []
    first_by_sha: dict[str, ImageSpec] = {}
    inspected = inspect_with_captions([candidate.path for candidate in candidates],
                                      [collector.caption_reader(candidate) for candidate in candidates],
                                      cache, ahead.reads if ahead is not None else None)
    for candidate, (facts, caption) in zip(candidates, inspected):
        spec = collector.check(candidate, facts, increase_resolution, caption)
        if spec is None:
            continue
        first = first_by_sha.get(spec.sha256)
        if first is not None:
            collector.fail(f"{spec.rel_path} has the same content as {first.rel_path} (line "
                           f"{first.source.line if first.source else '?'}); a dataset may hold "
                           "an image only once", candidate.field, candidate.source)
            continue
        first_by_sha[spec.sha256] = spec
        specs.append(spec)
    return DatasetImages(tuple(specs), collector.diagnostics, len(candidates))


class DatasetsAhead:
    """Every dataset of a manifest resolved, and its files being read on the pool, before the
    manifest's schema is checked (the schema check and the checks of other resources then
    overlap the reading). Only datasets whose `images:` already have the shape the schema
    requires are resolved here; `collect_dataset_images` uses a resolution only for the very
    dataset object it was made from, so what is reported is exactly what it would find itself.
    A dataset the schema refuses is not checked, and its reads are dropped by `cancel`."""

    def __init__(self, data: Any, root: Path, source_map: SourceMap, cache: HashCache | None):
        self.reads = ReadAhead()
        self._resolved: dict[str, tuple[dict[str, Any], Resolution]] = {}
        datasets = data.get("datasets") if isinstance(data, dict) else None
        try:
            for key, dataset in (datasets.items() if isinstance(datasets, dict) else ()):
                if isinstance(key, str) and _resolvable(dataset):
                    resolution = resolve_dataset_images(key, dataset, root, source_map)
                    self._resolved[key] = (dataset, resolution)
                    if not resolution.too_many:
                        candidates = resolution.candidates
                        self.reads.start([candidate.path for candidate in candidates],
                                         [resolution.collector.caption_reader(candidate) for candidate in candidates],
                                         cache)
        except BaseException:               # e.g. Ctrl-C: the caller never gets this object to cancel
            self.reads.cancel()
            raise
        self.reads.seal()

    def resolution(self, key: str, dataset: dict[str, Any]) -> Resolution | None:
        made_from, resolution = self._resolved.pop(key, (None, None))
        return resolution if made_from is dataset else None

    def cancel(self) -> None:
        self.reads.cancel()


def _resolvable(dataset: Any) -> bool:
    """`images:` entries of the shape `_Collector.entry` reads (the schema's, loosely)."""
    images = dataset.get("images") if isinstance(dataset, dict) else None
    return isinstance(images, list) and all(
        isinstance(entry, dict) and len({"folder", "file"} & entry.keys()) == 1
        and isinstance(entry.get("folder", entry.get("file")), str)
        and isinstance(entry.get("recursive", False), bool)
        and isinstance(entry.get("caption"), (str, dict, type(None)))
        for entry in images)


def _file_entries_win(candidates: list[_Candidate]) -> list[_Candidate]:
    """Drop a folder's candidate for a file that a `file:` entry names too: the `file:` entry
    says more about it (its caption), so it wins, wherever it sits in the list."""
    named = {c.path for c in candidates if c.from_file_entry}
    return [c for c in candidates if c.from_file_entry or c.path not in named]
