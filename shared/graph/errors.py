"""Typed Graph errors, placed in the application's error tree (shared.errors).

    AppError
    └── GraphError                 Graph or Entra refused or failed; not worth retrying
        ├── GraphAuthError         401, or no app token could be obtained
        │   └── DelegatedTokenUnavailable   no on-behalf-of token for this caller
        ├── GraphForbidden         403: the app lacks a permission (or consent)
        ├── GraphNotFound          404
        ├── GraphBadRequest        400
        ├── GraphMalformedResponse a 2xx whose body is not the JSON Graph promises
        └── GraphTransientError    (also a TransientError) network failure, timeout
            ├── GraphThrottled     429 after in-process retries
            ├── GraphServerError   5xx after in-process retries
            └── GraphOutcomeUnknown  a write was sent and its answer lost (5xx, timeout):
                                   it may have been done; look before sending it again

Messages name the method, the path (never the query string), the status and Graph's
error code. They never contain a token or a secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.errors import AppError, TransientError

MAX_DETAIL = 300


class GraphError(AppError):
    """Root of Graph failures."""

    code = "graph_error"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        graph_code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.graph_code = graph_code
        self.method = method
        self.path = path
        self.request_id = request_id


class GraphAuthError(GraphError):
    code = "graph_unauthorized"


class DelegatedTokenUnavailable(GraphAuthError):
    """No delegated (on-behalf-of) Graph token for this caller: the feature needs one."""

    code = "delegated_token_required"
    http_status = 403

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # Entra's error / suberror, e.g. "consent_required"


class GraphForbidden(GraphError):
    code = "graph_forbidden"


class GraphNotFound(GraphError):
    code = "graph_not_found"


class GraphBadRequest(GraphError):
    code = "graph_bad_request"


class GraphMalformedResponse(GraphError):
    code = "graph_malformed_response"


class GraphTransientError(GraphError, TransientError):
    """Worth retrying later (the queue redelivers)."""

    code = "graph_unavailable"
    http_status = 503

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        GraphError.__init__(self, message, **context)
        self.retry_after = retry_after


class GraphThrottled(GraphTransientError):
    code = "graph_throttled"


class GraphServerError(GraphTransientError):
    code = "graph_server_error"


class GraphOutcomeUnknown(GraphTransientError):
    """A non-idempotent request (a create, sendMail) reached Graph and no success came
    back: it may or may not have been carried out. Never resent blindly; the caller's
    ledger decides (look for the created object, or mark the delivery unknown)."""

    code = "graph_outcome_unknown"


def safe_path(url: str | httpx.URL) -> str:
    """The path only: query strings can carry skip tokens or search terms, never logged."""
    return urlsplit(str(url)).path or "/"


def _graph_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (
        code if isinstance(code, str) else None,
        message[:MAX_DETAIL] if isinstance(message, str) else None,
    )


def error_from_response(
    response: httpx.Response,
    method: str,
    url: str | httpx.URL,
    retry_after: float | None = None,
    *,
    idempotent: bool = True,
) -> GraphError:
    status = response.status_code
    graph_code, detail = _graph_error_body(response)
    path = safe_path(url)
    text = f"Graph {method} {path} returned {status}" + (f" ({graph_code})" if graph_code else "")
    if detail:
        text += f": {detail}"
    context: dict[str, Any] = {
        "status": status,
        "graph_code": graph_code,
        "method": method,
        "path": path,
        "request_id": response.headers.get("request-id"),
    }
    if status == 429:
        return GraphThrottled(text, retry_after=retry_after, **context)
    if status >= 500 and not idempotent:
        return GraphOutcomeUnknown(text, retry_after=retry_after, **context)
    if status >= 500:
        return GraphServerError(text, retry_after=retry_after, **context)
    kind: type[GraphError] = {
        400: GraphBadRequest,
        401: GraphAuthError,
        403: GraphForbidden,
        404: GraphNotFound,
    }.get(status, GraphError)
    return kind(text, **context)
