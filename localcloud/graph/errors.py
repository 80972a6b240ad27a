"""Graph's error body: {"error": {"code", "message", "innerError": {date, request-id, ...}}}
(learn.microsoft.com/graph/errors)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from localcloud.wire import Response, json_response


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    request_id = str(uuid.uuid4())
    payload = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": request_id,
            },
        }
    }
    return json_response(status, payload, {"request-id": request_id, **(headers or {})})


def bad_request(message: str, code: str = "BadRequest") -> Response:
    return graph_error(400, code, message)


def not_found(message: str, code: str = "ResourceNotFound") -> Response:
    return graph_error(404, code, message)


def forbidden() -> Response:
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def unknown_segment(segment: str) -> Response:
    # Graph answers 400 (not 404) for a path segment it does not know.
    return bad_request(f"Resource not found for the segment '{segment}'.")


def throttled(retry_after: float) -> Response:
    return graph_error(
        429,
        "TooManyRequests",
        "Too many requests are being made. Retry after the time given in Retry-After.",
        {"Retry-After": _seconds(retry_after)},
    )


def server_error(status: int, retry_after: float | None) -> Response:
    code, message = {
        500: ("InternalServerError", "An internal server error occurred."),
        502: ("BadGateway", "The upstream service returned an invalid response."),
        503: ("serviceNotAvailable", "The service is temporarily unavailable."),
        504: ("GatewayTimeout", "The gateway did not receive a timely response."),
    }[status]
    headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}
    return graph_error(status, code, message, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
