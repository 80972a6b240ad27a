"""Telemetry: structured log context, OpenTelemetry spans and metrics, secret redaction.

Everything here is a no-op until `configure(settings)` finds
APPLICATIONINSIGHTS_CONNECTION_STRING: the OpenTelemetry API hands out no-op tracers and
meters until a provider is installed, so the hooks elsewhere cost nothing locally.
"""

from shared.telemetry.config import configure, is_configured
from shared.telemetry.context import RunLogContextFilter, run_log_context
from shared.telemetry.redact import RedactingFilter, RedactingSpanProcessor, redact
from shared.telemetry.runs import RunMetricsEvents
from shared.telemetry.spans import graph_span, storage_span

__all__ = [
    "RedactingFilter",
    "RedactingSpanProcessor",
    "RunLogContextFilter",
    "RunMetricsEvents",
    "configure",
    "graph_span",
    "is_configured",
    "redact",
    "run_log_context",
    "storage_span",
]
