"""Run ids, row keys and the identity hash: how a run is named in storage.

A run id is a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids
sort by creation time. The run row's RowKey is `run~` + the id with every character
mirrored in the alphabet, which makes ascending RowKey order newest first and keeps the
mapping between id and key a pure function both ways (a detail read is a point read).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from typing import Any

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MIRROR = str.maketrans(_ALPHABET, _ALPHABET[::-1])
_RUN_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

RUN_PREFIX = "run~"
LOCK_PREFIX = "active~"
# "~" + 1 sorts after every key with the prefix: ranges are [prefix, prefix_end).
RUN_RANGE = (RUN_PREFIX, "run\x7f")
LOCK_RANGE = (LOCK_PREFIX, "active\x7f")
# Notices not yet handled by the notifications worker, written in the run's transactions.
# "~" sorts after every other key we use: reads of the lock and run ranges never see them.
OUTBOX_PREFIX = "~outbox~"
OUTBOX_RANGE = (OUTBOX_PREFIX, "~outbox\x7f")
# The partition of the runs table that indexes tenants with runs (RowKey = tenant id).
# Tenant ids are GUIDs, so it can never be a tenant's partition.
TENANT_INDEX_PARTITION = "~tenants"


def _ulid(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_run_id(now: datetime) -> str:
    millis = int(now.timestamp() * 1000)
    return _ulid((millis << 80) | secrets.randbits(80))


def run_id_floor(at: datetime) -> str:
    """The smallest run id minted at `at`: every older run's id sorts below it."""
    return _ulid(int(at.timestamp() * 1000) << 80)


def is_run_id(value: str) -> bool:
    return bool(_RUN_ID.fullmatch(value))


def normalize_tenant_id(value: str) -> str | None:
    """A managed tenant id as a lower-case GUID, or None if it is not one."""
    candidate = value.strip().lower()
    return candidate if _TENANT_ID.fullmatch(candidate) else None


def mirrored_run_id(run_id: str) -> str:
    """The run id with its characters mirrored, so that newer runs sort first."""
    return run_id.translate(_MIRROR)


def run_row_key(run_id: str) -> str:
    return RUN_PREFIX + mirrored_run_id(run_id)


def run_id_from_row_key(row_key: str) -> str:
    if not row_key.startswith(RUN_PREFIX):
        raise ValueError(f"not a run row key: {row_key!r}")
    return row_key[len(RUN_PREFIX) :].translate(_MIRROR)


def lock_row_key(identity_hash: str) -> str:
    return LOCK_PREFIX + identity_hash


def outbox_row_key(run_id: str, event: str) -> str:
    return f"{OUTBOX_PREFIX}{run_id}~{event}"


def outbox_run_range(run_id: str) -> tuple[str, str]:
    prefix = f"{OUTBOX_PREFIX}{run_id}~"
    return prefix, prefix + "\x7f"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def identity_hash(tenant_id: str, run_type: str, inputs: dict[str, Any]) -> str:
    """SHA-256 of what makes two requests 'the same run'. The initiator is not part of it."""
    payload = canonical_json({"tenant_id": tenant_id, "type": run_type, "inputs": inputs})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
