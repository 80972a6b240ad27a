"""The one place a run (shared.runs.model.Run) and an error become response models
(shared.api.response_models), and what a use case answers (ApiResponse)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from shared.api.response_models import ErrorBody, RunDetail, RunPage
from shared.errors import AppError
from shared.redaction import redact, redact_value
from shared.runs.links import Links
from shared.runs.model import Run


def _summary_fields(run: Run, links: Links) -> dict[str, Any]:
    """What a run list shows: status, outcome, counts, initiator, times and links. No
    inputs, failures or result: those can be large (and hold anything a caller sent);
    the detail has them."""
    initiator = run.initiator
    return {
        "id": run.id,
        "tenant_id": run.tenant_id,
        "type": run.type,
        "input_summary": run.input_summary,
        "status": run.status,
        "outcome": run.outcome,
        "initiator": {
            "id": initiator.id,
            "name": initiator.name,
            "email": initiator.email,
            "kind": initiator.kind,
        },
        "summary_counts": run.summary_counts,
        "cancel_requested": run.cancel_requested,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "updated_at": run.updated_at,
        "completed_at": run.completed_at,
        "links": {
            "self": links.run(run.tenant_id, run.id),
            "view": links.view(run.tenant_id, run.id),
        },
    }


def run_page(runs: Sequence[Run], links: Links, next_cursor: str | None) -> RunPage:
    # One validation for the whole page: the list path's cost stays that of the fields.
    return RunPage.model_validate(
        {"items": [_summary_fields(r, links) for r in runs], "next_cursor": next_cursor}
    )


def run_detail(run: Run, links: Links) -> RunDetail:
    """The run's fields without storage internals (the lock, the ETag, dispatch
    bookkeeping), plus links."""
    return RunDetail.model_validate(
        {
            **_summary_fields(run, links),
            "inputs": run.inputs,
            "identity_hash": run.identity_hash,
            "failures": [
                {
                    "code": f.code,
                    "message": f.message,
                    "item": f.item,
                    "attempt": f.attempt,
                    "at": f.at,
                }
                for f in run.failures
            ],
            "result": run.result,
            "attempt": run.attempt,
            "lease_expires_at": run.lease_expires_at,
            "claims": [
                {"attempt": run.attempt - len(run.claims) + n, "at": at}
                for n, at in enumerate(run.claims, start=1)
            ],
            "cancel_requested_at": run.cancel_requested_at,
        }
    )


def error_body(error: AppError) -> ErrorBody:
    """The error body. Messages and details can quote what a caller or a service sent:
    masked like everything else that leaves the process."""
    detail: dict[str, Any] = {"code": error.code, "message": redact(error.message)}
    if error.details is not None:
        detail["details"] = redact_value(error.details)
    return ErrorBody.model_validate({"error": detail})


# A response model, or a document the route table describes without one (the OpenAPI
# document itself).
Body = BaseModel | dict[str, Any]


class ApiResponse:
    """What a use case answers: a status, a body and extra headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, body: Body, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
