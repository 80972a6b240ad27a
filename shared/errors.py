"""The application's error tree. Every error the product raises on purpose is an AppError.

    AppError                       anything the application raises on purpose
    ├── InvalidRequest             the request is malformed (HTTP 400)
    ├── InputInvalid               well-formed but violates the run type's schema (HTTP 422)
    │   └── UnknownRunType         no handler is registered for the type
    ├── PayloadTooLarge            a value exceeds what storage or the API accepts (HTTP 413)
    ├── UnsupportedMediaType       a body that is not application/json (HTTP 415)
    ├── NotFound                   the run (or tenant) does not exist for this caller (HTTP 404)
    ├── Forbidden                  the caller may see but not do this (HTTP 403)
    ├── Conflict                   the request clashes with the resource's state (HTTP 409)
    │   ├── InvalidTransition      the lifecycle forbids this status change
    │   └── ConcurrentUpdate       an ETag compare-and-swap lost too many times
    ├── DispatchFailed             the run was created but its queue message could not be sent;
    │                              the run is already failed (HTTP 503)
    └── TransientError             retry later: the queue redelivers (HTTP 503 at the edge)
        └── StorageUnavailable     Table/Queue storage did not answer usefully

Handlers raise TransientError (or a subclass) for anything worth retrying through the queue;
any other exception fails the run at once.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Root of every error the application raises on purpose."""

    code = "app_error"
    http_status = 500

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class InvalidRequest(AppError):
    """The request is malformed (bad JSON, bad cursor, bad query parameter)."""

    code = "invalid_request"
    http_status = 400


class InputInvalid(AppError):
    """The inputs do not satisfy the run type's input model."""

    code = "invalid_inputs"
    http_status = 422


class UnknownRunType(InputInvalid):
    """No handler is registered for the requested run type."""

    code = "unknown_run_type"


class PayloadTooLarge(AppError):
    """A value is larger than storage or the API accepts."""

    code = "payload_too_large"
    http_status = 413


class NotFound(AppError):
    """The resource does not exist, or the caller may not know that it does."""

    code = "not_found"
    http_status = 404


class Forbidden(AppError):
    """The caller is known but lacks the right for this action."""

    code = "forbidden"
    http_status = 403


class Conflict(AppError):
    """The request clashes with the current state of the resource."""

    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    """The run lifecycle does not allow this status change."""

    code = "invalid_transition"


class ConcurrentUpdate(Conflict):
    """A compare-and-swap kept losing to concurrent writers."""

    code = "concurrent_update"


class DispatchFailed(AppError):
    """The queue message for a new run could not be sent; the run has been failed."""

    code = "dispatch_failed"
    http_status = 503

    def __init__(self, message: str, *, run: Any = None) -> None:
        super().__init__(message)
        self.run = run


class TransientError(AppError):
    """Worth retrying: the queue redelivers the message until its last delivery."""

    code = "transient_error"
    http_status = 503

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class StorageUnavailable(TransientError):
    """Table or Queue storage failed in a way that may pass."""

    code = "storage_unavailable"


class UnsupportedMediaType(AppError):
    """The request body is not in the media type the route accepts."""

    code = "unsupported_media_type"
    http_status = 415
