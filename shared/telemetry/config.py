"""OpenTelemetry to Application Insights, only when a connection string is configured."""

from __future__ import annotations

import logging
import threading
from typing import Any

from shared.config import Settings
from shared.telemetry.context import RunLogContextFilter
from shared.telemetry.redact import RedactingFilter, RedactingSpanProcessor

log = logging.getLogger(__name__)

# Loggers whose records are exported (as traces with custom dimensions). The Functions
# host captures log lines too (message only); these add the structured fields.
EXPORTED_LOGGER = "shared"

_lock = threading.Lock()
_configured = False


def is_configured() -> bool:
    return _configured


def install_log_filters(logger: logging.Logger | None = None) -> None:
    """Run context and redaction on every handler of the app's loggers (idempotent)."""
    target = logger or logging.getLogger(EXPORTED_LOGGER)
    for handler in [*target.handlers, *logging.getLogger().handlers]:
        if not any(isinstance(f, RunLogContextFilter) for f in handler.filters):
            handler.addFilter(RunLogContextFilter())
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def azure_monitor_options(settings: Settings) -> dict[str, Any] | None:
    """The keyword arguments for configure_azure_monitor, or None to stay off."""
    connection_string = settings.applicationinsights_connection_string.strip()
    if not connection_string:
        return None
    options: dict[str, Any] = {
        "connection_string": connection_string,
        "logger_name": EXPORTED_LOGGER,
        # Graph calls get our own spans (paths only); httpx spans would carry full URLs.
        "instrumentation_options": {"httpx": {"enabled": False}},
        "enable_live_metrics": False,
        # Ahead of the exporter: every span's attributes are masked before export.
        "span_processors": [RedactingSpanProcessor()],
    }
    if "authorization=aad" in settings.applicationinsights_authentication_string.lower():
        from azure.identity import DefaultAzureCredential

        options["credential"] = DefaultAzureCredential(
            managed_identity_client_id=settings.managed_identity_client_id
        )
    return options


def configure(settings: Settings) -> bool:
    """Install the Azure Monitor OpenTelemetry distro once per process. True if active."""
    global _configured
    with _lock:
        install_log_filters()
        if _configured:
            return True
        options = azure_monitor_options(settings)
        if options is None:
            return False
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(**options)
        install_log_filters()  # the distro added its handler to EXPORTED_LOGGER
        _configured = True
        log.info("telemetry: exporting to Application Insights")
        return True
