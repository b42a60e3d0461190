"""YAML → plain Python values, keeping where every value came from.

PyYAML's `safe_load` forgets positions and silently keeps the last of two duplicate keys, so
this module builds values itself from the node tree of `yaml.compose()` (with libyaml's
parser, `CSafeLoader`, when PyYAML has it — 5× faster, same nodes and marks — else the
pure-Python `SafeLoader`):

- every mapping key and value, and every sequence item, is recorded in a `SourceMap` under
  its path (`("datasets", "luna_v1", "images", 0, "folder")`) with its 1-based line/column;
- a duplicate mapping key is an error diagnostic (the first occurrence is kept);
- aliases are expanded while counting the values they add (a node built a second time, and
  everything under it); past `DEFAULT_NODE_BUDGET` (`limits.MAX_ALIAS_EXPANSION`) the
  document is refused as an alias bomb (a "billion laughs" costs nothing to parse but
  explodes on expansion). Values written out in the file are not counted, so a big manifest
  is never mistaken for a bomb (its size is capped before parsing, by the caller). The
  count costs O(1) per value built, and building stops at the budget. A recursive alias is
  refused outright;
- malformed YAML becomes a diagnostic carrying the parser's line/column.

Scalars follow YAML 1.1 core types as PyYAML resolves them (null, bool, int, float, str);
timestamps stay strings (a manifest has no date fields, and `name: 2024-01-01` is a name).
Merge keys (`<<: *defaults`) are honoured. Other explicit tags are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.diagnostics import Diagnostic, SourceRange, error
from reconciler.limits import MAX_ALIAS_EXPANSION

DEFAULT_NODE_BUDGET = MAX_ALIAS_EXPANSION

FieldPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
# Tags whose scalars are typed by PyYAML's safe constructor; every other core tag is a string.
_TYPED_SCALARS = {_TAG + t for t in ("null", "bool", "int", "float")}
_STRING_TAGS = {_TAG + t for t in ("str", "timestamp")}


@dataclass
class SourceMap:
    """Where each value (and each mapping key) sits in the source file."""

    file: str
    values: dict[FieldPath, SourceRange] = field(default_factory=dict)
    keys: dict[FieldPath, SourceRange] = field(default_factory=dict)

    def value(self, path: FieldPath) -> SourceRange | None:
        return self.values.get(tuple(path))

    def key(self, path: FieldPath) -> SourceRange | None:
        """Position of the key naming the last element of `path` (None for sequence items)."""
        return self.keys.get(tuple(path))

    def nearest(self, path: FieldPath) -> SourceRange:
        """The value at `path`, or the closest enclosing value that has a position."""
        path = tuple(path)
        while path:
            found = self.values.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.values.get((), SourceRange(self.file, 1, 1))

    def key_or_value(self, path: FieldPath) -> SourceRange:
        """Prefer the key's position (where the reader's eye goes), else `nearest`."""
        return self.key(path) or self.nearest(path)


@dataclass(frozen=True)
class YamlDocument:
    data: Any                     # None when the text could not be turned into values
    source_map: SourceMap
    diagnostics: list[Diagnostic]


class _Refused(Exception):
    """Internal: stop building values; the diagnostic explains why."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def json_path(path: FieldPath) -> str:
    """`("datasets", "luna_v1", "images", 0)` → `$.datasets.luna_v1.images[0]`."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(c.isalnum() or c == "_" for c in part):
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def load_yaml(text: str, file: str, *, node_budget: int = DEFAULT_NODE_BUDGET) -> YamlDocument:
    """Parse one YAML document. Never raises for bad input: problems come back as diagnostics."""
    source_map = SourceMap(file)
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        return YamlDocument(None, source_map, [_parse_error(exc, file)])
    except yaml.reader.ReaderError as exc:     # a character YAML does not allow, e.g. NUL
        before = text[:exc.position]
        where = SourceRange(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return YamlDocument(None, source_map, [error(
            f"invalid YAML: character U+{code:04X} is not allowed in a YAML file", where)])
    except yaml.YAMLError as exc:
        return YamlDocument(None, source_map, [error(f"invalid YAML: {exc}", SourceRange(file, 1, 1))])
    except RecursionError:
        return YamlDocument(None, source_map, [error("invalid YAML: nesting is too deep",
                                                      SourceRange(file, 1, 1))])
    if root is None:
        return YamlDocument(None, source_map, [error("the file is empty (no YAML document)",
                                                      SourceRange(file, 1, 1))])
    builder = _Builder(source_map, node_budget)
    try:
        data = builder.build(root, ())
    except _Refused as refused:
        return YamlDocument(None, source_map, builder.diagnostics + [refused.diagnostic])
    except RecursionError:
        return YamlDocument(None, source_map, [error("invalid YAML: nesting is too deep",
                                                      SourceRange(file, 1, 1))])
    return YamlDocument(data, source_map, builder.diagnostics)


def _mark(node: Node, file: str) -> SourceRange:
    return SourceRange(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _parse_error(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = SourceRange(file, mark.line + 1, mark.column + 1) if mark else SourceRange(file, 1, 1)
    problem = exc.problem or "malformed document"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return error(f"invalid YAML: {problem}", where)


class _Builder:
    """Expands a composed node graph into values, recording positions as it goes."""

    def __init__(self, source_map: SourceMap, node_budget: int):
        self.map = source_map
        self.budget = node_budget
        self.count = 0                    # values built through an alias (the second time on)
        self.built: set[int] = set()      # ids of nodes built at least once
        self.alias_depth = 0              # > 0 while building a node reached again through an alias
        self.active: set[int] = set()     # ids of collection nodes being expanded (cycle check)
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: FieldPath) -> Any:
        again = id(node) in self.built
        self.built.add(id(node))
        if again:
            self.alias_depth += 1
        try:
            if self.alias_depth:
                self._count_expansion(node, path)
            return self._build(node, path)
        finally:
            if again:
                self.alias_depth -= 1

    def _count_expansion(self, node: Node, path: FieldPath) -> None:
        self.count += 1
        if self.count > self.budget:
            # Aliases hide where they were used (compose() resolves them), so blame the
            # top-level entry whose expansion crossed the budget.
            top = path[:1]
            raise _Refused(error(
                f"YAML aliases expand the document by more than {self.budget:,} values "
                "(an alias bomb?); refusing to load it",
                self.map.key(top) or _mark(node, self.map.file), json_path(top) if top else None))

    def _build(self, node: Node, path: FieldPath) -> Any:
        self.map.values[path] = _mark(node, self.map.file)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self.active:
            raise _Refused(error("recursive YAML alias: a value contains itself",
                                 self.map.key(path) or _mark(node, self.map.file),
                                 json_path(path)))
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._require_core_tag(node, "seq")
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            self._require_core_tag(node, "map")
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag in _TYPED_SCALARS:
            return self.constructor.construct_object(node, deep=True)
        if node.tag in _STRING_TAGS:
            return node.value
        raise _Refused(error(f"unsupported YAML tag {node.tag!r}", _mark(node, self.map.file)))

    def _require_core_tag(self, node: Node, kind: str) -> None:
        if node.tag != _TAG + kind:
            raise _Refused(error(f"unsupported YAML tag {node.tag!r}", _mark(node, self.map.file)))

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # Merged keys first, so that keys written explicitly override them (YAML merge-key
        # spec); among several merge sources the earlier one wins.
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for merged_key, merged_value in self._merged(value_node, path).items():
                    result.setdefault(merged_key, merged_value)
        first_seen: dict[str, SourceRange] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            where = _mark(key_node, self.map.file)
            if key in first_seen:
                self.diagnostics.append(error(
                    f"duplicate key {key!r} (first defined at line {first_seen[key].line}); "
                    "YAML would silently keep only one of them", where, json_path(path + (key,))))
                continue
            first_seen[key] = where
            self.map.keys[path + (key,)] = where
            result[key] = self.build(value_node, path + (key,))
        return result

    def _merged(self, node: Node, path: FieldPath) -> dict[str, Any]:
        """The mapping(s) named by a `<<` key, expanded at `path` (positions included)."""
        own_position = self.map.values[path]
        sources = node.value if isinstance(node, SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _Refused(error("a merge key (<<) needs a mapping or a list of mappings",
                                     _mark(source, self.map.file)))
            for key, value in self.build(source, path).items():
                result.setdefault(key, value)
        self.map.values[path] = own_position
        return result

    def _key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _Refused(error("a mapping key must be a plain value, not a list or mapping",
                                 _mark(node, self.map.file)))
        # Keys are strings in JSON; `1:` or `true:` keep their source spelling.
        return node.value
