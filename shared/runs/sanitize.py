"""Failure messages are written to rows, logs and API responses: strip what must not leak.

Removes bearer tokens, JWTs, secrets in key=value form, connection-string keys, SAS
signatures and stack traces, then caps the length.
"""

from __future__ import annotations

import re

MAX_MESSAGE_CHARS = 1000
MAX_FAILURES = 50

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # A traceback: keep only what precedes it.
    (re.compile(r"Traceback \(most recent call last\):.*", re.DOTALL), "[traceback removed]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[redacted-jwt]"),
    (
        re.compile(
            r"(?i)\b(AccountKey|SharedAccessSignature|client_secret|client_assertion|"
            r"password|secret|access_token|refresh_token|id_token|assertion|apikey|api_key|sig)"
            r"(\s*[=:]\s*|\"\s*:\s*\")([^;&\s\"',]+)"
        ),
        r"\1\2[redacted]",
    ),
]


def sanitize_message(message: str, *, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = message
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())  # one line: no multi-line dumps in a row
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def describe_exception(error: BaseException) -> str:
    """A one-line, sanitized description of an exception (type and message, no trace)."""
    text = str(error) or error.__class__.__name__
    return sanitize_message(f"{error.__class__.__name__}: {text}")
