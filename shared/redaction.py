"""The one list of secret shapes, masked wherever text leaves the process: run failure
messages (rows and API responses, via shared.runs.sanitize), API error bodies, log records
(message, args, extras, tracebacks) and telemetry attributes (shared.telemetry.redact).

Masked: bearer/basic credentials and JWTs; PEM blocks; credentials named by a key
(`client_secret`, `password`, `AccountKey`, `SharedAccessKey`, `sig`, ...) in key=value,
`key: value`, JSON, Python dict repr and quoted forms; passwords in URLs; Teams / Workflows
webhook URLs (the URL is the credential). Ordinary text (GUIDs, run ids, policy names,
error codes) is left alone: a key must be followed by `=` or `:` to count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MASK = "[redacted]"

# Names whose value is a credential; a prefix is allowed (db_password, x-api-key).
_KEYS = (
    r"[\w-]*?(?:client_secret|client_assertion|assertion|access_token|refresh_token|id_token"
    r"|password|passwd|pwd|secret|api[_-]?key|accountkey|sharedaccesskey"
    r"|sharedaccesssignature|private[_-]?key|credentials?|authsession|sig|token)"
)
_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

_RULES: tuple[_Rule, ...] = (
    # PEM blocks (keys, certificates), and a private key cut off before its END line.
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|\Z)"), MASK),
    # Webhook URLs whose path or query is the secret.
    (
        re.compile(
            r"(?i)https?://[^\s\"'<>]*(?:webhook\.office\.com|logic\.azure\.com"
            r"|api\.powerplatform\.com)[^\s\"'<>]*"
        ),
        MASK,
    ),
    # user:password@ in a URL.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@\"']*:)[^\s@/\"']+@"), rf"\g<1>{MASK}@"),
    # Authorization schemes.
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/]{8,}=*"), rf"\g<1>{MASK}"),
    # Anything JWT-shaped (base64url JSON header, payload, optional signature).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?"), MASK),
    # Quoted values: "key": "v" (JSON), 'key': 'v' (dict repr), key="v", key='v'.
    (
        re.compile(
            rf"(?i)([\"']?)\b({_KEYS})\1(\s*[=:]\s*)([\"'])(?:\\.|(?!\4).)*\4",
        ),
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{MASK}{m.group(4)}",
    ),
    # Unquoted values: key=v (query strings, connection strings, forms), key: v.
    (
        re.compile(rf"(?i)\b({_KEYS})([\"']?\s*[=:]\s*)(?![\"'\[])[^\s&;,\"'}}\]\)<>]+"),
        rf"\g<1>\g<2>{MASK}",
    ),
    # An OAuth authorization code in a query string (alone, `code` is an ordinary word).
    (re.compile(r"(?i)([?&]code=)[^\s&#\"']+"), rf"\g<1>{MASK}"),
)


def redact(text: str) -> str:
    """`text` with every credential shape masked."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """Strings masked inside any JSON-like value (dicts, lists, tuples); the rest as is."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value
