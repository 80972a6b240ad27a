"""What a run listing asks for: filters, page size and an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from shared.errors import InvalidRequest
from shared.runs.identity import RUN_PREFIX
from shared.runs.model import RunOutcome, RunStatus

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class RunFilter:
    type: str | None = None
    status: RunStatus | None = None
    outcome: RunOutcome | None = None
    initiator_id: str | None = None


def encode_cursor(row_key: str) -> str:
    """The cursor is the last RowKey returned; it names no partition, so it cannot leak one."""
    raw = json.dumps({"after": row_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        row_key = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidRequest("cursor is not valid", code="invalid_cursor") from error
    if not isinstance(row_key, str) or not row_key.startswith(RUN_PREFIX) or len(row_key) > 64:
        raise InvalidRequest("cursor is not valid", code="invalid_cursor")
    return row_key
