"""HTTP glue shared by the API triggers: request headers in, JSON responses out, and the
one place AppErrors become HTTP errors (`{"error": {"code", "message", "details"?}}`).
Anything unexpected is a 500 with no detail; the stack trace goes to the log only."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from shared.api.csrf import STATE_CHANGING
from shared.api.present import ApiResponse, error_body
from shared.auth.errors import Unauthenticated
from shared.composition.reads import api_services
from shared.errors import AppError, TransientError
from shared.transport import STRICT_TRANSPORT_SECURITY

log = logging.getLogger("functions.http")

JSON = "application/json"


def headers_of(req: func.HttpRequest) -> dict[str, str]:
    return {name.lower(): value for name, value in req.headers.items()}


def respond(result: ApiResponse) -> func.HttpResponse:
    body = result.body
    if isinstance(body, BaseModel):
        text = body.model_dump_json()
    else:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return func.HttpResponse(
        text,
        status_code=result.status,
        headers={"Cache-Control": "no-store", **STRICT_TRANSPORT_SECURITY, **result.headers},
        mimetype=JSON,
        charset="utf-8",
    )


def error_response(error: AppError) -> func.HttpResponse:
    headers: dict[str, str] = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if isinstance(error, TransientError) and error.retry_after:
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    status = error.http_status if 400 <= error.http_status <= 599 else 500
    return respond(ApiResponse(error_body(error), status, headers))


def api_endpoint(
    handler: Callable[[func.HttpRequest], ApiResponse],
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    """Run a trigger body; map AppErrors to their status, anything else to a bare 500.
    A state-changing request is first checked for cross-site origin and JSON body."""

    @functools.wraps(handler)
    def endpoint(req: func.HttpRequest) -> func.HttpResponse:
        try:
            if req.method.upper() in STATE_CHANGING:
                api_services().writes.check(req.method, req.url, headers_of(req), req.get_body())
            return respond(handler(req))
        except AppError as error:
            if error.http_status >= 500:
                log.warning("%s %s: %s (%s)", req.method, _path(req), error.code, error.message)
            return error_response(error)
        except Exception:
            log.exception("%s %s failed", req.method, _path(req))
            return error_response(AppError("the request failed", code="internal_error"))

    # The worker checks the function's declared types against its bindings: it must see
    # (req: HttpRequest) -> HttpResponse, not the handler's ApiResponse.
    endpoint.__annotations__ = {"req": func.HttpRequest, "return": func.HttpResponse}
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "req", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=func.HttpRequest
            )
        ],
        return_annotation=func.HttpResponse,
    )
    return endpoint


def _path(req: func.HttpRequest) -> str:
    # The path only: query strings may carry search terms.
    url: Any = req.url
    return str(url).split("?", 1)[0]
