"""Diagnostics: problems as data, collected and reported together.

Every user-facing problem (bad manifest, bad image, refused change) is a Diagnostic with a
source position when one exists. Code collects them into lists and returns them next to its
results; exceptions are reserved for bugs and the API client's error tree.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceRange:
    """A 1-based line and column in a file (as shown to users)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    source: SourceRange | None = None
    # A JSON-path-like pointer to the field, e.g. "$.datasets.luna_v1.images[0].folder".
    path: str | None = None
    # A resource address ("dataset.luna_v1") when the problem is about one resource.
    address: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{self.severity.value}: {field}{self.message}"


def error(message: str, source: SourceRange | None = None, path: str | None = None,
          address: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, source, path, address)


def warning(message: str, source: SourceRange | None = None, path: str | None = None,
            address: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, message, source, path, address)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
