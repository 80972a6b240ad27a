"""JSON shapes of the API: runs (with links), errors, RFC 3339 UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.errors import AppError
from shared.redaction import redact, redact_value
from shared.runs.links import Links
from shared.runs.model import Failure, Run


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def failure_json(failure: Failure) -> dict[str, Any]:
    return {
        "code": failure.code,
        "message": failure.message,
        "item": failure.item,
        "attempt": failure.attempt,
        "at": rfc3339(failure.at),
    }


def run_summary_json(run: Run, links: Links) -> dict[str, Any]:
    """What a run list shows: status, outcome, counts, initiator, times and links. No
    inputs, failures or result: those can be large (and hold anything a caller sent);
    the detail route has them."""
    return {
        "id": run.id,
        "tenant_id": run.tenant_id,
        "type": run.type,
        "input_summary": run.input_summary,
        "status": run.status.value,
        "outcome": run.outcome.value,
        "initiator": {
            "id": run.initiator.id,
            "name": run.initiator.name,
            "email": run.initiator.email,
            "kind": run.initiator.kind,
        },
        "summary_counts": run.summary_counts,
        "cancel_requested": run.cancel_requested,
        "created_at": rfc3339(run.created_at),
        "started_at": rfc3339(run.started_at),
        "updated_at": rfc3339(run.updated_at),
        "completed_at": rfc3339(run.completed_at),
        "links": {
            "self": links.run(run.tenant_id, run.id),
            "view": links.view(run.tenant_id, run.id),
        },
    }


def run_json(run: Run, links: Links) -> dict[str, Any]:
    """The run's fields (shared.runs.model.Run) without storage internals, plus links."""
    return {
        **run_summary_json(run, links),
        "inputs": run.inputs,
        "identity_hash": run.identity_hash,
        "failures": [failure_json(f) for f in run.failures],
        "result": run.result,
        "attempt": run.attempt,
        "lease_expires_at": rfc3339(run.lease_expires_at),
        "claims": [
            {"attempt": run.attempt - len(run.claims) + n, "at": rfc3339(at)}
            for n, at in enumerate(run.claims, start=1)
        ],
        "cancel_requested_at": rfc3339(run.cancel_requested_at),
    }


def error_json(error: AppError) -> dict[str, Any]:
    """The error body. Messages and details can quote what a caller or a service sent:
    masked like everything else that leaves the process."""
    body: dict[str, Any] = {"code": error.code, "message": redact(error.message)}
    if error.details is not None:
        body["details"] = redact_value(error.details)
    return {"error": body}


class ApiResponse:
    """What a use case answers: a status, a JSON body and extra headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
