"""Failure messages are written to rows, logs and API responses: strip what must not leak.

Stack traces are dropped, credentials masked (shared.redaction, the one list of secret
shapes), the text made one line and capped in length.
"""

from __future__ import annotations

import re

from shared.redaction import redact

MAX_MESSAGE_CHARS = 1000
MAX_FAILURES = 50

# A traceback: keep only what precedes it.
_TRACEBACK = re.compile(r"Traceback \(most recent call last\):.*", re.DOTALL)


def sanitize_message(message: str, *, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = redact(_TRACEBACK.sub("[traceback removed]", message))
    text = " ".join(text.split())  # one line: no multi-line dumps in a row
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def describe_exception(error: BaseException) -> str:
    """A one-line, sanitized description of an exception (type and message, no trace)."""
    text = str(error) or error.__class__.__name__
    return sanitize_message(f"{error.__class__.__name__}: {text}")
