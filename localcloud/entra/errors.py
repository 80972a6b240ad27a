"""Token-endpoint errors in Entra's JSON shape (error, error_description with an AADSTS
code, error_codes, trace and correlation ids; the codes as listed in
learn.microsoft.com/entra/identity-platform/reference-error-codes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from localcloud.wire import Response, json_response


def aad_error(
    status: int, error: str, code: int, description: str, suberror: str | None = None
) -> Response:
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    payload = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    if suberror:
        payload["suberror"] = suberror
    return json_response(status, payload)


def tenant_not_found(name: str) -> Response:
    return aad_error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{name}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud.",
    )


def missing_parameter(name: str) -> Response:
    return aad_error(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )
