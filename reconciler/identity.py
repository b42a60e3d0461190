"""Content identity: how bria knows which remote image holds which of its files.

An image is identified by the sha256 of its bytes, never by its path. Everything that maps
between remote images and content uses this module — the planner (reading a live version),
the executor's records (a clone's copies, a completed version), the journal (adoption) and
`bria import`:

- `image_name(sha256, file_name)`: the name bria sends to the API, `<sha256[:16]>-<file>`.
  It lets an upload whose response was lost be found again (the API has no idempotency
  key) and a clone's copied images be mapped back to content.
- State keys a version's images by sha256 (`is_content_key`); an image that maps to no
  content bria knows is a STRAY, kept under `stray_key(remote id)` = `unknown-<id>`.
- `match_images`: the single matcher, with one precedence (see there).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

HASH_PREFIX_LENGTH = 16
STRAY_KEY_PREFIX = "unknown-"
_HEX = frozenset("0123456789abcdef")


def image_name(sha256: str, file_name: str) -> str:
    return f"{sha256[:HASH_PREFIX_LENGTH]}-{file_name}"


def hash_prefix_of(name: str | None) -> str | None:
    """The content-hash prefix embedded by `image_name`, or None for a name bria did not write."""
    if not name or len(name) <= HASH_PREFIX_LENGTH or name[HASH_PREFIX_LENGTH] != "-":
        return None
    head = name[:HASH_PREFIX_LENGTH]
    return head if set(head) <= _HEX else None


def is_content_key(key: str) -> bool:
    """Is this state image key a sha256 (bria's content), rather than a stray's key?"""
    return len(key) == 64 and set(key) <= _HEX


def stray_key(remote_id: Any) -> str:
    return f"{STRAY_KEY_PREFIX}{remote_id}"


def id_order(remote_id: Any) -> tuple[int, str]:
    """Sort key for remote ids (ints; anything else after, as text)."""
    return (remote_id, "") if isinstance(remote_id, int) else (0, str(remote_id))


def match_images(remote_images: Iterable[Mapping[str, Any]], *, recorded: Mapping[Any, str] | None = None,
                 names: Mapping[str, str] | None = None, known_shas: Iterable[str] = ()) -> dict[Any, str | None]:
    """remote image id → the sha256 it holds, or None for a stray; in id order.

    Precedence, each pass over the images in id order, so which copy of a duplicated content
    is the stray does not depend on the order the API lists them in:
    1. `recorded` (remote id → state key): an image state recorded keeps its key — a
       content key, or a stray's key (then it stays a stray);
    2. `names` (exact image_name → sha256);
    3. the hash prefix in its name, against `known_shas`.
    A content is held by one image only: a second copy is a stray."""
    recorded, names = recorded or {}, names or {}
    by_prefix = {sha[:HASH_PREFIX_LENGTH]: sha for sha in sorted(known_shas, reverse=True)}
    ordered = sorted(remote_images, key=lambda img: id_order(img.get("id")))
    matched: dict[Any, str | None] = {}
    taken: set[str] = set()

    def take(image_id: Any, sha: str | None) -> None:
        if sha is not None and is_content_key(sha) and sha not in taken:
            matched[image_id] = sha
            taken.add(sha)

    for img in ordered:
        if img.get("id") in recorded:
            take(img.get("id"), recorded[img.get("id")])
            matched.setdefault(img.get("id"), None)
    for img in (i for i in ordered if i.get("id") not in matched):
        take(img.get("id"), names.get(img.get("image_name") or ""))
    for img in (i for i in ordered if i.get("id") not in matched):
        take(img.get("id"), by_prefix.get(hash_prefix_of(img.get("image_name")) or ""))
    return {img.get("id"): matched.get(img.get("id")) for img in ordered}
