"""Redaction of credentials from log messages and span attributes.

The app never logs a token or secret on purpose (errors are sanitized, URLs are logged as
paths). This is the belt to those braces: bearer tokens, JWT-shaped strings, SAS
signatures, account keys and `secret=`/`password=` pairs are masked in every record that
reaches an exporter.
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"

_PATTERNS = (
    # Authorization: Bearer <token>
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    # Anything JWT-shaped (three base64url segments, the first a JSON header).
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # key=value credentials in connection strings, query strings and form bodies.
    re.compile(
        r"(?i)\b((?:client_secret|client_assertion|assertion|access_token|refresh_token|"
        r"id_token|password|secret|sig|accountkey|sharedaccesskey|code)\s*[=:]\s*)"
        r"[^\s&;,\"']+"
    ),
    # PEM private keys.
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks credentials in the formatted message (and string `extra` values) of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key.startswith("_") or key in _STANDARD or not isinstance(value, str):
                continue
            masked = redact(value)
            if masked != value:
                setattr(record, key, masked)
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
