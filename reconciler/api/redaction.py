"""Keeping the API token out of logs and error messages.

The client never formats the token into a message on purpose; this module is the second
line of defence. `redact()` removes every registered token from a text (used on response
bodies before they become error messages, since a server may echo the token it rejected),
and `RedactingFilter` does the same for log records of the client's logger and of httpx
and httpcore.

Tokens shorter than `MIN_SECRET_LENGTH` are not registered: replacing a one- or two-letter
string everywhere would garble every log line, and such a value is no real credential.
"""

from __future__ import annotations

import logging
from collections import Counter

MIN_SECRET_LENGTH = 4
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
    """`text` with every registered secret replaced by a marker."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


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
