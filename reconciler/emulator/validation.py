"""Checks on JSON request bodies. Each failure is a 400 naming the field.

Unknown fields are refused (400) rather than ignored: the emulator exists to catch client
mistakes such as a misspelt field, which a lenient server would silently drop.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from reconciler.emulator.errors import bad_request


def reject_unknown(body: Mapping[str, Any], allowed: Collection[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request(f"unknown field(s): {', '.join(unknown)}")


def _storable(value: str, field: str) -> str:
    """JSON may carry lone surrogates (`"\\ud800"`), which no UTF-8 store or response can
    hold: they are refused as bad text rather than failing later as a 500."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"{field} is not valid Unicode text") from None
    return value


def required_str(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{field} is required and must be a non-empty string")
    return _storable(value, field)


def optional_str(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    return value if value is None else _storable(value, field)


def one_of(body: Mapping[str, Any], field: str, choices: Collection[str], default: str | None = None) -> str | None:
    """The field's value, which must be one of `choices`; absent or null → `default`."""
    value = body.get(field)
    if value is None:
        return default
    # The type check comes first: a list or object is unhashable, and `in` a set would raise.
    if not isinstance(value, str) or value not in choices:
        raise bad_request(f"{field} must be one of {', '.join(sorted(choices))}")
    return value


def optional_bool(body: Mapping[str, Any], field: str, default: bool) -> bool:
    """Absent or null → `default` (null is how many JSON clients say "not set")."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be a boolean")
    return value


def required_int(body: Mapping[str, Any], field: str) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} is required and must be an integer")
    return value


def int_in_range(value: Any, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} must be an integer")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"{field} must be {bound}")
    return value


def number_in_range(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"{field} must be a number")
    if not low <= value <= high:
        raise bad_request(f"{field} must be between {low:g} and {high:g}")
    return float(value)
