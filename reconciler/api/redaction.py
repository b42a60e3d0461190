"""Keeping the API token out of logs and error messages.

The client never formats the token into a message on purpose; this module is the second
line of defence. `redact()` removes every registered token from a text (used on response
bodies before they become error messages, since a server may echo the token it rejected),
and `RedactingFilter` does the same for log records of the client's logger and of httpx
and httpcore.

A secret is redacted in every form a library may print it in, not only verbatim: escaped as
Python prints a str or bytes value (`repr`, as in h11's "Illegal header value b'…'"), escaped
as JSON, and, for a value with characters that some escaping rewrites (control, whitespace
and non-ASCII characters, backslashes, quotes), each long enough run of the characters between
them: no escaping, however deeply nested (the repr of an exception quoting a bytes repr),
changes those runs, and a message may quote one line of a multi-line value.

Tokens shorter than `MIN_SECRET_LENGTH` are not registered: replacing a one- or two-letter
string everywhere would garble every log line, and such a value is no real credential. For
the same reason a run between control characters is redacted on its own only from
`MIN_FRAGMENT_LENGTH` characters.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from functools import lru_cache

MIN_SECRET_LENGTH = 4
MIN_FRAGMENT_LENGTH = 8
REDACTED = "[REDACTED]"
PROTECTED_LOGGERS = (
    "bria.api",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)

# Reference-counted: several clients may share one token.
_secrets: Counter[str] = Counter()


def register_secret(secret: str) -> None:
    """Start redacting `secret` (if it is long enough to be a credential)."""
    if len(secret) >= MIN_SECRET_LENGTH:
        _secrets[secret] += 1
        _install_filter()


def unregister_secret(secret: str) -> None:
    """Undo one `register_secret(secret)`."""
    if _secrets.get(secret, 0) > 1:
        _secrets[secret] -= 1
    else:
        _secrets.pop(secret, None)


def redact(text: str) -> str:
    """`text` with every registered secret, in any of its printed forms, replaced by a marker."""
    for secret in _secrets:
        for form in printed_forms(secret):
            if form in text:
                text = text.replace(form, REDACTED)
    return text


# Characters some escaping (str or bytes repr, JSON) rewrites, or that end a line.
_ESCAPED = re.compile(r"[^\x21-\x7e]|[\\'\"]")


@lru_cache(maxsize=64)
def printed_forms(secret: str) -> tuple[str, ...]:
    """The ways `secret` may show up in a message, longest first (so a longer form is
    replaced whole before a shorter one inside it could break it up)."""
    forms = {
        secret,
        repr(secret)[1:-1],                               # str repr
        secret.encode("unicode_escape").decode("ascii"),
        repr(_as_bytes(secret))[2:-1],                    # bytes repr
        json.dumps(secret)[1:-1],                         # JSON, \u-escaped
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms |= {run for run in _ESCAPED.split(secret) if len(run) >= MIN_FRAGMENT_LENGTH}
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


def _as_bytes(secret: str) -> bytes:
    """The bytes a library would send for `secret` (an environment value that was not valid
    UTF-8 comes back as its original bytes)."""
    try:
        return secret.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return secret.encode("utf-8", "backslashreplace")


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose formatted message contains a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def _install_filter() -> None:
    for name in PROTECTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
