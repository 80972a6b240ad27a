"""Mapping between Run and its Table Storage row, with the 64 KiB property guard.

Complex fields (inputs, counts, failures, result) are stored as JSON strings. A string
property holds at most 64 KiB of UTF-16; anything larger is refused here, before any
write, so a too-large value can never half-write a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.persistence.tables import (
    MAX_PROPERTY_BYTES,
    check_property_size,
    etag_of,
    stored_bytes,
)
from shared.runs.identity import run_id_from_row_key, run_row_key
from shared.runs.model import Failure, Initiator, Run, RunOutcome, RunStatus

# What a run list shows (shared.api.present.run_page), and all a list page reads:
# inputs, failures and result can each be up to 64 KiB and are the detail route's business.
SUMMARY_PROPERTIES = (
    "PartitionKey",
    "RowKey",
    "Type",
    "InputSummary",
    "Status",
    "Outcome",
    "InitiatorId",
    "InitiatorName",
    "InitiatorEmail",
    "InitiatorKind",
    "SummaryCounts",
    "CancelRequested",
    "CreatedAt",
    "UpdatedAt",
    "StartedAt",
    "CompletedAt",
)


def check_result_size(result: dict[str, Any] | None) -> None:
    """A handler's result must fit one property; large payloads belong in Blob storage."""
    _json("result", result)


def _json(name: str, value: Any) -> str:
    return check_property_size(name, json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _failure_to_dict(failure: Failure) -> dict[str, Any]:
    data: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if failure.item is not None:
        data["item"] = failure.item
    if failure.attempt is not None:
        data["attempt"] = failure.attempt
    if failure.at is not None:
        data["at"] = failure.at.isoformat()
    return data


def _failure_from_dict(data: dict[str, Any]) -> Failure:
    at = data.get("at")
    return Failure(
        code=str(data.get("code", "")),
        message=str(data.get("message", "")),
        item=data.get("item"),
        attempt=data.get("attempt"),
        at=datetime.fromisoformat(at) if at else None,
    )


def failures_to_list(failures: tuple[Failure, ...]) -> list[dict[str, Any]]:
    return [_failure_to_dict(f) for f in failures]


def _fits(value: str) -> bool:
    return stored_bytes(value) <= MAX_PROPERTY_BYTES


def failures_json(failures: tuple[Failure, ...]) -> str:
    """Failures are capped, never refused: keep the first ones that fit and say how many not."""
    items = failures_to_list(failures)
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    keep = len(items)
    while not _fits(text) and keep > 0:
        keep = keep // 2
        dropped = len(items) - keep
        marker = {"code": "failures_truncated", "message": f"{dropped} more failures not shown"}
        text = json.dumps([*items[:keep], marker], separators=(",", ":"), ensure_ascii=False)
    return text


def run_to_entity(run: Run) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": run.tenant_id,
        "RowKey": run_row_key(run.id),
        "Kind": "run",
        "Type": run.type,
        "Status": run.status.value,
        "Outcome": run.outcome.value,
        "InitiatorId": run.initiator.id,
        "InitiatorName": check_property_size("initiator.name", run.initiator.name),
        "InitiatorEmail": run.initiator.email or "",
        "InitiatorKind": run.initiator.kind,
        "Inputs": _json("inputs", run.inputs),
        "InputSummary": run.input_summary,
        "Claims": _json("claims", [c.isoformat() for c in run.claims]),
        "IdentityHash": run.identity_hash,
        "SummaryCounts": _json("summary_counts", run.summary_counts),
        "Failures": failures_json(run.failures),
        "Result": _json("result", run.result),
        "Attempt": run.attempt,
        "CancelRequested": run.cancel_requested,
        "DispatchCount": run.dispatch_count,
        "CreatedAt": run.created_at,
        "UpdatedAt": run.updated_at,
    }
    # Absent rather than null: Table Storage has no null, and a merge must not resurrect.
    for prop, value in (
        ("LeaseExpiresAt", run.lease_expires_at),
        ("StartedAt", run.started_at),
        ("CompletedAt", run.completed_at),
        ("CancelRequestedAt", run.cancel_requested_at),
        ("DispatchedAt", run.dispatched_at),
        ("ClaimToken", run.claim_token),
    ):
        if value is not None:
            entity[prop] = value
    return entity


def parse_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # TablesEntityDatetime is a datetime subclass; normalise to a plain aware datetime.
        return datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=UTC,
        )
    return datetime.fromisoformat(str(value))


def _json_or(text: Any, empty: Callable[[], Any]) -> Any:
    """A JSON column, or `empty()` when the row does not carry it (a list selects only
    the summary columns: 50 rows need not parse 250 empty documents)."""
    return json.loads(text) if text else empty()


def run_from_entity(entity: Any) -> Run:
    created = parse_datetime(entity["CreatedAt"])
    updated = parse_datetime(entity["UpdatedAt"])
    assert created is not None and updated is not None  # noqa: S101 - written on every row
    return Run(
        id=run_id_from_row_key(entity["RowKey"]),
        tenant_id=entity["PartitionKey"],
        type=entity["Type"],
        status=RunStatus(entity["Status"]),
        outcome=RunOutcome(entity["Outcome"]),
        initiator=Initiator(
            id=entity.get("InitiatorId", ""),
            name=entity.get("InitiatorName", ""),
            email=entity.get("InitiatorEmail") or None,
            kind=entity.get("InitiatorKind", "user"),
        ),
        inputs=_json_or(entity.get("Inputs"), dict),
        input_summary=str(entity.get("InputSummary") or ""),
        claims=tuple(datetime.fromisoformat(c) for c in _json_or(entity.get("Claims"), list)),
        cancel_requested_at=parse_datetime(entity.get("CancelRequestedAt")),
        identity_hash=entity.get("IdentityHash", ""),
        summary_counts=_json_or(entity.get("SummaryCounts"), dict),
        failures=tuple(_failure_from_dict(f) for f in _json_or(entity.get("Failures"), list)),
        result=_json_or(entity.get("Result"), lambda: None),
        attempt=int(entity.get("Attempt", 0)),
        lease_expires_at=parse_datetime(entity.get("LeaseExpiresAt")),
        cancel_requested=bool(entity.get("CancelRequested", False)),
        created_at=created,
        updated_at=updated,
        started_at=parse_datetime(entity.get("StartedAt")),
        completed_at=parse_datetime(entity.get("CompletedAt")),
        dispatched_at=parse_datetime(entity.get("DispatchedAt")),
        dispatch_count=int(entity.get("DispatchCount", 0)),
        claim_token=entity.get("ClaimToken") or None,
        etag=etag_of(entity),
    )
