"""JSON text for FIBO datasets: captions (inline or a `.json` sidecar) and visual schemas.

The API wants both as strings holding a JSON object. bria keeps them as compact JSON text
(keys in the author's order) and compares them as parsed values, since the API may store
them re-serialised ("minor issues auto-corrected"). Every parse failure names the file (or
manifest line) and the line and column inside the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the object, None), or (None, why not) — "line 3, column 7: Expecting ','"."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "nested too deeply"
    if not isinstance(value, dict) or not value:
        return None, "it must be a non-empty JSON object ({…})"
    return value, None


def parse_json(text: Any) -> Any:
    """The value a JSON string holds, or None when it is not a string of valid JSON."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def same_json(left: Any, right: Any) -> bool:
    """Whether two captions or visual schemas say the same: compared as parsed JSON when
    both parse (the API re-serialises what it stores), else as text (legacy captions)."""
    if left is None or right is None:
        return left is right
    parsed_left, parsed_right = parse_json(left), parse_json(right)
    if parsed_left is None or parsed_right is None:
        return left == right
    return parsed_left == parsed_right


def json_sidecar_path(image: Path) -> Path:
    return image.with_suffix(".json")


def json_sidecar_caption(image: Path) -> str | None:
    """The JSON caption in the same-stem `.json` beside `image` as compact JSON text; None
    if there is none. Raises ImageProblem (naming the file, line and column) otherwise."""
    from reconciler.images import ImageProblem   # here: the planner and client use this module without Pillow

    sidecar = json_sidecar_path(image)
    try:
        text = sidecar.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ImageProblem(f"has a caption file {sidecar.name} that is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ImageProblem(f"has a caption file {sidecar.name} that cannot be read ({exc.strerror})") from None
    value, problem = parse_json_object(text)
    if problem:
        raise ImageProblem(f"has a caption file {sidecar.name} that is not a JSON caption ({problem})")
    return compact_json(value)


def read_schema_file(path: Path) -> tuple[str | None, str | None]:
    """(compact JSON text, None) for a visual-schema file, or (None, why not)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, "no such file"
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text ({exc.reason})"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    value, problem = parse_json_object(text)
    return (None, f"not a JSON visual schema ({problem})") if problem else (compact_json(value), None)
