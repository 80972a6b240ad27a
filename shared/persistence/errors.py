"""The one map from Azure Storage SDK errors (tables, queues, blobs) to the app's errors.

Transient (no answer, 408, 429, 5xx): StorageUnavailable, so the queue retries and an
HTTP caller gets a 503 with Retry-After. Everything else is an answer about our request
(404 not found, 409 exists, 412 changed, 400 bad request): it stays the SDK's error for
the store to handle where it means something (a compare-and-swap lost, a row already
there); one no store handles is a bug, and the HTTP glue answers it as a bare 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.data.tables import TableTransactionError

from shared.errors import StorageUnavailable

# What an SDK call can raise about the service (not about our arguments).
SDK_ERRORS = (ServiceRequestError, ServiceResponseError, HttpResponseError)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return True
    if not isinstance(error, HttpResponseError) or isinstance(error, TableTransactionError):
        return False  # a transaction's failed entity: the store decides what it means
    status = getattr(error, "status_code", None)
    return status is None or status in (408, 429) or status >= 500


def unavailable(error: BaseException, what: str) -> StorageUnavailable:
    status = getattr(error, "status_code", None)
    return StorageUnavailable(f"{what}: storage failed ({status or type(error).__name__})")


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Transient storage failures inside become StorageUnavailable; answers stay as is."""
    try:
        yield
    except SDK_ERRORS as error:
        if is_transient(error):
            raise unavailable(error, what) from None
        raise
