"""Spans around Graph calls and storage operations. Attributes carry paths, never queries,
headers or bodies: no token, secret, skip token or search term reaches a span."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

tracer = trace.get_tracer("intune_operation_runs")


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


@contextmanager
def graph_span(method: str, url: str, attempt: int = 1) -> Iterator[Span]:
    """One Graph request attempt. Set `http.response.status_code` on the yielded span."""
    parts = urlsplit(url)
    with tracer.start_as_current_span(
        f"Graph {method} {_path(url)}",
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "server.address": parts.hostname or "",
            "url.path": _path(url),
            "graph.attempt": attempt,
        },
        record_exception=False,  # exception messages could quote a response body
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.set_attribute("error.type", type(error).__name__)
            raise


@contextmanager
def storage_span(operation: str, target: str) -> Iterator[Span]:
    """A logical storage operation (e.g. a retention batch) around the SDK's own spans."""
    with tracer.start_as_current_span(
        f"storage {operation}",
        kind=SpanKind.INTERNAL,
        attributes={"storage.operation": operation, "storage.target": target},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
