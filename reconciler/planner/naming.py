"""Names that show their version: the console can tell a dataset's versions and an address's
successive models apart (Bria's console lists them by name only).

The first version keeps the manifest's name, so a state made before this naming plans no
change; later versions (a dataset's clone, a replacement model) are named by the manifest's
`naming.versions` pattern, "{name} v{version}" by default. A name is compared with the
manifest's through the pattern: "Luna max v3" is what `name: Luna max` wants of the third
model, and renaming the manifest's entry renames it "<new name> v3".
"""

from __future__ import annotations

import re

DEFAULT_PATTERN = "{name} v{version}"


def versioned_name(pattern: str, name: str, version: int) -> str:
    """The name of `version` (1 = the first: the plain name)."""
    if version <= 1:
        return name
    return pattern.replace("{name}", name).replace("{version}", str(version))


def version_in(pattern: str, actual: str) -> int | None:
    """The version a name made by `pattern` shows (≥ 2), or None."""
    if "{version}" not in pattern:
        return None
    parts = re.split(r"(\{name\}|\{version\})", pattern)
    regex = "".join("(?P<name>.*)" if p == "{name}" else "(?P<version>[0-9]+)" if p == "{version}"
                    else re.escape(p) for p in parts)
    match = re.fullmatch(regex, actual or "")
    if match is None or int(match.group("version")) < 2:
        return None
    return int(match.group("version"))


def wanted_name(pattern: str, name: str, actual: str | None) -> str:
    """What the remote object's name should be: the manifest's `name`, with the version its
    current name shows under the pattern (if any)."""
    if actual is None or actual == name:
        return name
    version = version_in(pattern, actual)
    return versioned_name(pattern, name, version) if version else name


def next_version(pattern: str, current_name: str | None, known_versions: int) -> int:
    """The version number of the next object of an address: one after the highest of what
    the current name shows and how many versions state knows."""
    shown = version_in(pattern, current_name or "") or 1
    return max(shown, known_versions) + 1


def is_version_of(pattern: str, name: str, actual: str | None) -> bool:
    """Is `actual` the manifest's `name` or one of its versioned names ("Luna max v3")?"""
    return actual is not None and wanted_name(pattern, name, actual) == actual
