"""Structured log context: run id, tenant, type and attempt on every record of a run.

The worker passes `extra=` on its own lines; this adds the same fields to every other
record emitted while a delivery is processed (Graph client, storage, handlers), from a
context variable the queue trigger sets. Exported as custom dimensions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

RUN_FIELDS = ("run_id", "tenant_id", "type", "attempt")

_current: ContextVar[dict[str, str] | None] = ContextVar("run_log_context", default=None)


def _fields_from_message(body: str | bytes) -> dict[str, str]:
    try:
        data = json.loads(body)
    except (TypeError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    fields = {}
    for key in ("run_id", "tenant_id", "type"):
        value = data.get(key)
        if isinstance(value, str) and len(value) <= 200:
            fields[key] = value
    return fields


@contextmanager
def run_log_context(body: str | bytes, dequeue_count: int | None = None) -> Iterator[None]:
    """Within: every log record carries the run fields of this queue message."""
    fields = _fields_from_message(body)
    if dequeue_count is not None:
        fields["dequeue_count"] = str(dequeue_count)
    token = _current.set(fields)
    try:
        yield
    finally:
        _current.reset(token)


class RunLogContextFilter(logging.Filter):
    """Adds the current run's fields to a record unless the record set them itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _current.get()
        if fields:
            for key, value in fields.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True
