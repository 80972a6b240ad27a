"""Redaction on the way out of the process: log records and span attributes.

The app never logs a token or secret on purpose (errors are sanitized, URLs are logged as
paths). This is the belt to those braces, with the one list of secret shapes
(shared.redaction): every record's message and args, its `extra` values, its traceback
and stack, and every span's attributes, status and events are masked before an exporter
or a handler sees them.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event as SpanEvent
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes

from shared.redaction import MASK, redact, redact_value

__all__ = ["MASK", "RedactingFilter", "RedactingSpanProcessor", "redact"]

_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's message, args, `extra` values and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key.startswith("_") or key in _STANDARD:
                continue
            masked = redact_value(value)
            if masked != value:
                setattr(record, key, masked)
        self._traceback(record)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

    @staticmethod
    def _traceback(record: logging.LogRecord) -> None:
        # Formatters print exc_text when set (and compute it only when not), so the masked
        # text is what every handler writes. Exporters that read exc_info itself (the
        # OpenTelemetry handler: type, str(value), stack) get a copy with a masked message.
        if record.exc_info and record.exc_info[1] is not None:
            kind, error, trace = record.exc_info
            record.exc_text = redact(record.exc_text or _FORMATTER.formatException(record.exc_info))
            text = str(error)
            if redact(text) != text:
                record.exc_info = (kind, _masked_copy(error, redact(text)), trace)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)


def _masked_copy(error: BaseException, message: str) -> BaseException:
    try:
        masked = copy.copy(error)
        masked.args = (message,)
        if hasattr(masked, "message"):
            masked.message = message  # AppError's own field
        if str(masked) == message or message in str(masked):
            return masked
    except Exception:  # noqa: BLE001, S110 - an exotic exception type: fall through
        pass
    return RuntimeError(f"{type(error).__name__}: {message}")


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingSpanProcessor(SpanProcessor):
    """Masks string attributes, the status description and event attributes of every span
    when it ends. Registered before the exporter's processor (configure_azure_monitor's
    `span_processors`), so the exporter only ever sees the masked span."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        # A ReadableSpan is read-only by API; these are its own fields, replaced whole.
        span._attributes = _masked(span.attributes)
        status = span.status
        if status.description and redact(status.description) != status.description:
            span._status = Status(status.status_code, redact(status.description))
        span._events = tuple(
            SpanEvent(e.name, _masked(e.attributes), e.timestamp) for e in span.events
        )

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _masked(attributes: Attributes) -> dict[str, Any]:
    return {key: redact_value(value) for key, value in (attributes or {}).items()}
