"""The write use cases: start a run (ensure_run + dispatch_or_fail) and cancel one."""

from __future__ import annotations

from shared.api.parsing import parse_body, run_path_id
from shared.api.present import ApiResponse, error_body, run_detail
from shared.api.request_models import StartRequest
from shared.api.response_models import CancelResult, DispatchFailedBody, StartResult
from shared.auth.caller import Caller
from shared.errors import DispatchFailed
from shared.runs.links import Links
from shared.runs.service import RunService

# How long a client should wait before polling a new run (Durable Functions' convention).
RETRY_AFTER_SECONDS = 5


def start_run(
    runs: RunService, links: Links, tenant_id: str, caller: Caller, body: bytes
) -> ApiResponse:
    """202 + Location for a new run, 200 for the active identical one, 503 if not queued."""
    request = parse_body(body, StartRequest)
    run, created = runs.ensure_run(tenant_id, request.type, request.inputs, caller.initiator)
    if created:
        try:
            run = runs.dispatch_or_fail(run)
        except DispatchFailed as error:
            failed = error.run if error.run is not None else run
            answer = DispatchFailedBody(
                error=error_body(error).error,
                run=run_detail(failed, links),
                view_url=links.view(failed.tenant_id, failed.id),
            )
            return ApiResponse(answer, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    payload = StartResult(
        run=run_detail(run, links),
        deduplicated=not created,
        view_url=links.view(run.tenant_id, run.id),
    )
    if not created:
        return ApiResponse(payload, 200)
    headers = {
        "Location": links.run(run.tenant_id, run.id),
        "Retry-After": str(RETRY_AFTER_SECONDS),
    }
    return ApiResponse(payload, 202, headers)


def cancel_run(
    runs: RunService, links: Links, tenant_id: str, raw_run_id: str | None
) -> ApiResponse:
    """Queued: cancelled now. Running: cancel requested. Completed: 409 (InvalidTransition)."""
    run = runs.cancel(tenant_id, run_path_id(raw_run_id))
    return ApiResponse(CancelResult(run=run_detail(run, links)))
