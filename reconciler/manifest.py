"""load_manifest(): a manifest file → a frozen `Manifest`, or every problem with its position.

Three passes, each reporting everything it finds before the next one runs:
1. YAML with source marks (`yamlsource`): malformed YAML, duplicate keys, alias bombs;
2. the JSON Schema (`schemas/manifest.schema.json`, via `schema_errors`): all violations;
3. semantic checks the schema cannot express — references between resources, what the API
   refuses (ip_type/ip_medium pairs, missing ip_name, `caption_prefix: auto` where
   generate_prefix is unavailable, expert parameters on non-expert models, training on an
   incomplete dataset), unique remote names (bria adopts by name), and the images
   (`dataset_images`). A resource with a wrong or missing value is skipped here, so one
   mistake does not cascade into confusing follow-up errors; an unknown (misspelt) field
   does not stop the other checks of its resource.

The manifest is None whenever any ERROR diagnostic exists. Warnings do not block.
The file name in diagnostics is the path exactly as the caller gave it.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from reconciler.dataset_images import DatasetsAhead, collect_dataset_images
from reconciler.diagnostics import Diagnostic, SourceRange, error, has_errors, warning
from reconciler.images import HashCache
from reconciler.json_captions import compact_json, read_schema_file
from reconciler.limits import MAX_MANIFEST_BYTES, MIN_FIBO_IMAGES_TO_COMPLETE, MIN_SCHEMA_IMAGES
from reconciler.manifest_blocks import blocks_digest_part, check_blocks
from reconciler.model import (address, AUTO_PREFIX, AUTO_SCHEMA, FIBO_FAMILY, FIBO_TRAINING_VERSION, LEGACY_FAMILY,
                              DatasetSpec, EmulatorOptions, ImageSpec, Manifest, ModelSpec, ProjectSpec,
                              StateConfig)
from reconciler.samples_spec import check_samples, samples_spec
from reconciler.yamlsource import FieldPath, SourceMap, json_path, load_yaml

ILLUSTRATION_ONLY_IP_TYPES = ("object_variants", "multi_object_set", "icons", "character_variants")
IP_NAME_REQUIRED = ("defined_character",)
IP_DESCRIPTION_REQUIRED = ("defined_character", "object_variants")
GENERATE_PREFIX_IP_TYPES = ("stylized_scene", "defined_character", "object_variants")
SECTIONS = ("projects", "datasets", "models")
FAMILIES_BY_DIALECT = {"legacy": (LEGACY_FAMILY,), "mixed": (LEGACY_FAMILY, FIBO_FAMILY), "fibo": (FIBO_FAMILY,)}


def dataset_family(dataset: dict[str, Any]) -> str:
    """A dataset with `visual_schema` is FIBO; any other is legacy."""
    return FIBO_FAMILY if "visual_schema" in dataset else LEGACY_FAMILY


def load_manifest(path: Path, *, hash_cache: HashCache | None = None,
                  meanwhile: Callable[[], object] | None = None) -> tuple[Manifest | None, list[Diagnostic]]:
    """Load, validate and check a manifest. Never raises for bad input.

    `hash_cache` (see `reconciler.images.HashCache`) spares re-hashing unchanged images; when
    it has a file it is saved at the end (a failure to save it is ignored: it is only a cache).
    `meanwhile` is called once, on this thread, while the images are being read and before
    they are checked (only for a YAML mapping): work the caller needs after loading anyway
    and that does not depend on the manifest (importing what it uses next), so that it
    overlaps the reading instead of following it. Its exceptions propagate.

    The cyclic garbage collector is paused while loading: the load makes tens of thousands of
    objects and next to no cyclic garbage, and each collection walks the growing heap (one
    5,000-image load paid ~40 ms for ~190 collections). It resumes when loading ends (and
    collects what there is then).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_manifest(path, hash_cache, meanwhile)
    finally:
        if collecting:
            gc.enable()


def _load_manifest(path: Path, hash_cache: HashCache | None, meanwhile: Callable[[], object] | None
                   ) -> tuple[Manifest | None, list[Diagnostic]]:
    path = Path(path)
    label = str(path)
    text, read_problem = _read_text(path, label)
    if read_problem:
        return None, [read_problem]
    document = load_yaml(text, label)
    diagnostics = list(document.diagnostics)
    if document.data is None:
        return None, diagnostics
    root = path.absolute().parent.resolve()
    # Images are read on a pool from here on, while the schema (the generated pre-check;
    # jsonschema only for a manifest with errors) and the other resources are checked.
    ahead = DatasetsAhead(document.data, root, document.source_map, hash_cache)
    try:
        from reconciler.schema_errors import schema_diagnostics

        schema_found = schema_diagnostics(document.data, document.source_map)
        diagnostics += [problem.diagnostic for problem in schema_found]
        data = document.data
        if not isinstance(data, dict):
            return None, diagnostics
        if meanwhile is not None:
            meanwhile()
        blocking = [problem.path for problem in schema_found if not problem.harmless]
        checker = _Checker(data, document.source_map, root, blocking, hash_cache, ahead)
        diagnostics += checker.run()
    finally:
        ahead.cancel()
    diagnostics += _state_path_diagnostics(data, document.source_map, root / path.name, root, blocking)
    blocks, block_problems = check_blocks(data, document.source_map, _declared(data), blocking)
    diagnostics += block_problems
    if hash_cache is not None:
        try:
            hash_cache.save()
        except OSError:
            pass
    diagnostics.sort(key=lambda d: (d.source.line, d.source.col) if d.source else (0, 0))
    if has_errors(diagnostics):
        return None, diagnostics
    manifest = _build(data, document.source_map, root / path.name, root, checker.images, checker.schemas)
    naming = data.get("naming") or {}
    if naming.get("versions"):
        manifest = replace(manifest, name_pattern=naming["versions"])
    if not any(blocks):
        return manifest, diagnostics
    return replace(manifest, moved=blocks[0], removed=blocks[1], imports=blocks[2],
                   digest=manifest_digest(manifest.projects, manifest.datasets, manifest.models,
                                          blocks_digest_part(blocks))), diagnostics


def _declared(data: dict[str, Any]) -> list[str]:
    return [f"{section[:-1]}.{key}" for section in SECTIONS
            for key in (data.get(section) if isinstance(data.get(section), dict) else {})]


def _read_text(path: Path, label: str) -> tuple[str, Diagnostic | None]:
    """The manifest's text, or why it cannot be had. Its size is checked before it is read
    whole (and so before it is parsed): see `limits.MAX_MANIFEST_BYTES`."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                size = os.fstat(f.fileno()).st_size
                return "", error(f"the manifest is {_megabytes(max(size, len(raw)))}; bria reads manifests of "
                                 f"at most {_megabytes(MAX_MANIFEST_BYTES)} (keep long captions in sidecar "
                                 ".txt files, or split the manifest)", SourceRange(label, 1, 1))
    except FileNotFoundError:
        return "", error(f"cannot read manifest {label}: no such file")
    except IsADirectoryError:
        return "", error(f"cannot read manifest {label}: it is a folder")
    except OSError as exc:
        return "", error(f"cannot read manifest {label}: {exc.strerror}")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return "", error("the manifest is not UTF-8 text", SourceRange(label, line, col))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB ({size:,} bytes)"


class _Checker:
    """Semantic checks over a schema-checked document (skipping resources the schema refused)."""

    def __init__(self, data: dict[str, Any], source_map: SourceMap, root: Path,
                 schema_error_paths: list[FieldPath], hash_cache: HashCache | None,
                 ahead: DatasetsAhead | None = None):
        self.data = data
        self.ahead = ahead
        self.map = source_map
        self.root = root
        self.cache = hash_cache
        self.diagnostics: list[Diagnostic] = []
        self.images: dict[str, tuple[ImageSpec, ...]] = {}
        self.schemas: dict[str, str] = {}     # dataset key → "auto" or compact JSON text
        self.project_family: dict[str, tuple[str, str]] = {}   # project key → (family, first dataset key)
        api = data.get("api") if isinstance(data.get("api"), dict) else {}
        self.dialect = api.get("dialect")
        self.sections = {s: data.get(s) if isinstance(data.get(s), dict) else None for s in SECTIONS}
        # Resources the schema accepted, per section, in manifest order.
        self._valid = {section: {key: value for key, value in (self.sections[section] or {}).items()
                                 if not any(p[:2] == (section, key) or p == (section,)
                                            for p in schema_error_paths)}
                       for section in SECTIONS}

    def run(self) -> list[Diagnostic]:
        for key, project in self.valid("projects"):
            self.check_project(key, project)
        for key, dataset in self.valid("datasets"):
            self.check_dataset(key, dataset)
        for key, model in self.valid("models"):
            self.check_model(key, model)
        self.check_unique_names()
        return self.diagnostics

    # --- helpers --------------------------------------------------------------------------

    def valid(self, section: str) -> list[tuple[str, dict[str, Any]]]:
        """Resources of `section` that the schema accepted."""
        return list(self._valid[section].items())

    def fail(self, field: FieldPath, message: str, address: str, *, at_key: FieldPath | None = None) -> None:
        where = self.map.key_or_value(at_key if at_key is not None else field)
        self.diagnostics.append(error(message, where, json_path(field), address))

    def warn(self, field: FieldPath, message: str, address: str) -> None:
        self.diagnostics.append(warning(message, self.map.key_or_value(field), json_path(field), address))

    def reference(self, field: FieldPath, section: str, target: str, address: str) -> bool:
        """True when `target` names a resource of `section` (or that section is unreadable)."""
        known = self.sections[section]
        if known is None or target in known:
            return True
        close = difflib.get_close_matches(target, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(sorted(known)) or "none"
        self.fail(field, f"unknown {section[:-1]} {target!r}{hint} (defined: {listing})", address)
        return False

    def lookup(self, section: str, key: str) -> dict[str, Any] | None:
        """A resource that exists and passed the schema, else None."""
        return self._valid[section].get(key)

    # --- resources ------------------------------------------------------------------------

    def check_project(self, key: str, project: dict[str, Any]) -> None:
        addr, base = address("project", key), ("projects", key)
        ip_type = project["ip_type"]
        if ip_type in ILLUSTRATION_ONLY_IP_TYPES and project["ip_medium"] != "illustration":
            self.fail(base + ("ip_medium",), f"ip_type {ip_type} needs ip_medium: illustration "
                      f"(the API refuses {project['ip_medium']})", addr)
        for field, needed_by in (("ip_name", IP_NAME_REQUIRED), ("ip_description", IP_DESCRIPTION_REQUIRED)):
            if ip_type in needed_by and field not in project:
                self.fail(base + (field,), f"{field} is required when ip_type is {ip_type}",
                          addr, at_key=base + ("ip_type",))

    def check_dataset(self, key: str, dataset: dict[str, Any]) -> None:
        addr, base = address("dataset", key), ("datasets", key)
        if self.reference(base + ("project",), "projects", dataset["project"], addr):
            project = self.lookup("projects", dataset["project"])
            if (dataset.get("caption_prefix") == AUTO_PREFIX and project is not None
                    and project["ip_type"] not in GENERATE_PREFIX_IP_TYPES):
                self.fail(base + ("caption_prefix",), "caption_prefix: auto needs an ip_type that "
                          f"supports generate_prefix ({', '.join(GENERATE_PREFIX_IP_TYPES)}); project "
                          f"{dataset['project']} is {project['ip_type']} — write the prefix yourself", addr)
        family = dataset_family(dataset)
        self.check_family(key, dataset, family)
        entries = dataset.get("images") or []
        if not entries and dataset.get("complete", True) and family == LEGACY_FAMILY:
            self.fail(base + ("complete",), "complete: true needs at least one image (the API "
                      "refuses to complete an empty dataset)", addr,
                      at_key=base + ("complete",) if "complete" in dataset else base)
        found = collect_dataset_images(key, dataset, self.root, self.map, self.cache, self.ahead)
        self.diagnostics += found.diagnostics
        self.images[key] = found.images
        if family == FIBO_FAMILY:
            self.check_fibo_dataset(key, dataset, found.count)

    def check_family(self, key: str, dataset: dict[str, Any], family: str) -> None:
        """The account's dialect must have the family, and a project holds one family (the
        API locks a project to the family of its first dataset)."""
        addr, base = address("dataset", key), ("datasets", key)
        field = base + ("visual_schema",) if family == FIBO_FAMILY else base
        if self.dialect and family not in FAMILIES_BY_DIALECT[self.dialect]:
            self.fail(field, f"a {family} dataset cannot be created in an account that speaks the "
                      f"{self.dialect} dialect (api.dialect); "
                      + ("use visual_schema instead of caption_prefix" if family == LEGACY_FAMILY
                         else "remove visual_schema (that account has caption prefixes only)"), addr)
        first = self.project_family.setdefault(dataset["project"], (family, key))
        if first[0] != family:
            line = self.map.key_or_value(("datasets", first[1])).line
            self.fail(field, f"project {dataset['project']} already holds the {first[0]} dataset "
                      f"{first[1]} (line {line}); a project holds datasets of one family (legacy "
                      "caption_prefix or FIBO visual_schema) — put this one in another project", addr)

    def check_fibo_dataset(self, key: str, dataset: dict[str, Any], image_count: int) -> None:
        addr, base = address("dataset", key), ("datasets", key)
        schema = dataset["visual_schema"]
        if isinstance(schema, dict):
            self.schemas[key] = compact_json(schema)
        elif schema == AUTO_SCHEMA:
            self.schemas[key] = AUTO_SCHEMA
            if image_count < MIN_SCHEMA_IMAGES:
                self.fail(base + ("visual_schema",), f"visual_schema: auto is generated from {MIN_SCHEMA_IMAGES} "
                          f"or more of the dataset's images, and it has {image_count}", addr)
        else:
            path = (self.root / schema).resolve()
            text, problem = (None, "outside the manifest's folder") if not path.is_relative_to(self.root) \
                else read_schema_file(path)
            if problem:
                self.fail(base + ("visual_schema",), f"visual_schema file {schema!r}: {problem}", addr)
            else:
                self.schemas[key] = text
        if dataset.get("complete", True) and image_count < MIN_FIBO_IMAGES_TO_COMPLETE:
            self.fail(base + ("complete",) if "complete" in dataset else base + ("images",),
                      f"a completed FIBO dataset needs at least {MIN_FIBO_IMAGES_TO_COMPLETE} images (it has "
                      f"{image_count}); add images or set complete: false", addr)

    def check_model(self, key: str, model: dict[str, Any]) -> None:
        addr, base = address("model", key), ("models", key)
        params = model.get("training_parameters") or {}
        mode = model.get("training_mode", "fully_automated")
        if params and mode != "expert":
            self.fail(base + ("training_parameters",), "training_parameters are accepted only with "
                      f"training_mode: expert (this model is {mode})", addr)
        steps, interval = params.get("total_training_steps"), params.get("checkpoint_interval")
        if steps is not None and interval is not None and interval > steps:
            self.fail(base + ("training_parameters", "checkpoint_interval"), f"checkpoint_interval "
                      f"({interval}) must not exceed total_training_steps ({steps})", addr)
        dataset = self.lookup("datasets", model["dataset"]) if isinstance(model.get("dataset"), str) else None
        family = dataset_family(dataset) if dataset is not None else None
        default_scheduler = "constant_with_warmup" if family == FIBO_FAMILY else "constant"
        if "lr_warmup_steps" in params and params.get("lr_scheduler", default_scheduler) != "constant_with_warmup":
            self.warn(base + ("training_parameters", "lr_warmup_steps"), "lr_warmup_steps is only "
                      "used with lr_scheduler: constant_with_warmup", addr)
        if isinstance(model.get("samples"), dict):
            version = FIBO_TRAINING_VERSION if family == FIBO_FAMILY else model.get("training_version", "max")
            check_samples(model["samples"], version,
                          lambda field, message: self.fail(base + ("samples", *field), message, addr))
        if not self.reference(base + ("dataset",), "datasets", model["dataset"], addr):
            return
        if family == FIBO_FAMILY and "training_version" in model:
            self.fail(base + ("training_version",), f"dataset {model['dataset']} is a FIBO dataset "
                      "(visual_schema): its models train FIBO and take no training_version (a "
                      "legacy base model cannot train on it); remove training_version", addr)
        if model.get("train", True) and dataset is not None and not dataset.get("complete", True):
            self.fail(base + ("train",), f"train: true needs a completed dataset, but dataset "
                      f"{model['dataset']} has complete: false (set complete: true there, or "
                      "train: false here)", addr,
                      at_key=base + ("train",) if "train" in model else base + ("dataset",))

    def check_unique_names(self) -> None:
        """bria finds remote objects by name (adoption, crash recovery), so names must be unique:
        projects globally, datasets and models within their project."""
        def project_of_model(model: dict[str, Any]) -> str | None:
            dataset = self.lookup("datasets", model["dataset"])
            return dataset["project"] if dataset else None

        scopes = (("projects", "project", lambda r: ""), ("datasets", "dataset", lambda r: r["project"]),
                  ("models", "model", project_of_model))
        for section, kind, scope_of in scopes:
            seen: dict[tuple[str | None, str], str] = {}
            for key, resource in self.valid(section):
                scope = scope_of(resource)
                if scope is None:
                    continue
                first = seen.setdefault((scope, resource["name"]), key)
                if first != key:
                    where = f" in project {scope}" if scope else ""
                    line = self.map.key_or_value((section, first, "name")).line
                    self.fail((section, key, "name"), f"{kind} name {resource['name']!r} is already "
                              f"used by {kind}.{first}{where} (line {line}); bria finds {kind}s by "
                              "name, so names must be unique", f"{kind}.{key}")


# --- building the specs ---------------------------------------------------------------------


def _build(data: dict[str, Any], smap: SourceMap, path: Path, root: Path,
           images: dict[str, tuple[ImageSpec, ...]], schemas: dict[str, str]) -> Manifest:
    def at(section: str, key: str) -> SourceRange:
        return smap.key_or_value((section, key))

    projects = {key: ProjectSpec(key=key, name=p["name"], ip_type=p["ip_type"], ip_medium=p["ip_medium"],
                                 description=p.get("description"), ip_name=p.get("ip_name"),
                                 ip_description=p.get("ip_description"),
                                 allow_duplicate_name=p.get("allow_duplicate_name", False), source=at("projects", key))
                for key, p in (data.get("projects") or {}).items()}
    datasets = {key: DatasetSpec(key=key, project=d["project"], name=d["name"], images=images.get(key, ()),
                                 caption_prefix=d.get("caption_prefix"), visual_schema=schemas.get(key),
                                 increase_resolution=d.get("increase_resolution", True),
                                 complete=d.get("complete", True),
                                 allow_duplicate_name=d.get("allow_duplicate_name", False), source=at("datasets", key))
                for key, d in (data.get("datasets") or {}).items()}
    models = {key: ModelSpec(key=key, dataset=m["dataset"], name=m["name"],
                             training_version=(FIBO_TRAINING_VERSION if m["dataset"] in schemas
                                               else m.get("training_version", "max")),
                             training_mode=m.get("training_mode", "fully_automated"),
                             description=m.get("description"),
                             training_parameters=dict(m.get("training_parameters") or {}),
                             train=m.get("train", True),
                             allow_duplicate_name=m.get("allow_duplicate_name", False), source=at("models", key),
                             samples=samples_spec(m.get("samples")))
              for key, m in (data.get("models") or {}).items()}
    api = data.get("api") or {}
    return Manifest(path=path, root=root, api_endpoint=api.get("endpoint"),
                    state=_state_config(data.get("state") or {}, path, root, smap),
                    projects=projects, datasets=datasets, models=models,
                    digest=manifest_digest(projects, datasets, models),
                    emulator=EmulatorOptions(**(api.get("emulator") or {})),
                    version=data["version"], api_dialect=api.get("dialect"))


def _state_path_diagnostics(data: dict[str, Any], smap: SourceMap, path: Path, root: Path,
                            schema_error_paths: list[FieldPath]) -> list[Diagnostic]:
    """A local state path that cannot be a file (a folder, or under a file) is bad input:
    reported here, at `state.path`, before any command takes a lock or calls the API."""
    if any(p[:1] == ("state",) for p in schema_error_paths):
        return []
    config = _state_config(data.get("state") or {}, path, root, smap)
    if config.backend != "local" or config.path is None:
        return []
    # Imported here: the store (and its socket, lock and codec modules) is imported beside
    # the image reads (cli/common.py REQUEST_MODULES), not before they start.
    from reconciler.state.local import state_path_problem

    problem = state_path_problem(config.path)
    if problem is None:
        return []
    where = config.path_source or smap.key_or_value(("state",))
    what = "state.path" if config.path_source else f"the default state path (state/{path.stem}.json)"
    return [error(f"{what} cannot be used: {problem}", where, json_path(("state", "path")))]


def _state_config(state: dict[str, Any], path: Path, root: Path, smap: SourceMap | None = None) -> StateConfig:
    raw = state.get("path")
    state_path = (root / Path(raw).expanduser()) if raw else root / "state" / f"{path.stem}.json"
    defaults = StateConfig()
    return StateConfig(backend=state.get("backend", defaults.backend), path=state_path,
                       path_source=smap.key_or_value(("state", "path")) if raw and smap else None,
                       dsn_env=state.get("dsn_env", defaults.dsn_env),
                       workspace=state.get("workspace", defaults.workspace))


def manifest_digest(projects: dict[str, ProjectSpec], datasets: dict[str, DatasetSpec],
                    models: dict[str, ModelSpec], blocks: dict[str, Any] | None = None) -> str:
    """sha256 of a canonical JSON of the desired state. Images enter by content hash and
    caption only, in hash order, so renaming or reordering files does not change it."""
    desired = {
        "projects": {k: {"name": p.name, "description": p.description, "ip_type": p.ip_type,
                         "ip_medium": p.ip_medium, "ip_name": p.ip_name,
                         "ip_description": p.ip_description} for k, p in projects.items()},
        "datasets": {k: {"project": d.project, "name": d.name, "caption_prefix": d.caption_prefix,
                         **({"visual_schema": d.visual_schema} if d.visual_schema is not None else {}),
                         "increase_resolution": d.increase_resolution, "complete": d.complete,
                         "images": sorted([i.sha256, i.caption] for i in d.images)}
                     for k, d in datasets.items()},
        "models": {k: {"dataset": m.dataset, "name": m.name, "description": m.description,
                       "training_version": m.training_version, "training_mode": m.training_mode,
                       "training_parameters": dict(m.training_parameters), "train": m.train}
                   for k, m in models.items()},
    }
    desired.update(blocks or {})   # moved/removed/import blocks, only when there are some
    canonical = json.dumps(desired, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
