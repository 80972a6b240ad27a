"""The composition root: wires settings, storage and services once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from shared.config import RUNS_QUEUE, RUNS_TABLE, TENANTS_TABLE, Settings, get_settings
from shared.config import max_dequeue_count as host_max_dequeue_count
from shared.notifications.wiring import NotificationServices, build_notifications
from shared.operations.catalogue import build_registry
from shared.operations.deps import OperationDeps
from shared.operations.graph_access import GraphAccess, GraphEndpoints
from shared.operations.registry import Registry
from shared.runs.dispatch import QueueDispatcher
from shared.runs.links import Links
from shared.runs.service import RunService, utcnow
from shared.runs.store import RunStore
from shared.runs.worker import RetryPolicy, RunWorker
from shared.storage import StorageClients
from shared.telemetry import RunMetricsEvents
from shared.telemetry import configure as configure_telemetry
from shared.tenants import TenantStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: StorageClients
    registry: Registry
    runs: RunService
    worker: RunWorker
    tenants: TenantStore
    operations: OperationDeps
    notifications: NotificationServices

    def close(self) -> None:
        """Release network clients (tests and hosts that rebuild services call this)."""
        self.notifications.close()


def build_services(settings: Settings) -> Services:
    configure_telemetry(settings)  # OpenTelemetry only if App Insights is configured
    storage = StorageClients.from_settings(settings)
    if settings.auto_provision_storage:
        storage.provision()
    tenants = TenantStore(storage.table(TENANTS_TABLE))
    # The Intune run types: Graph per managed tenant (its Tenants row) and their stores.
    operations = OperationDeps.from_storage(
        storage, GraphAccess(tenants, GraphEndpoints.from_settings(settings))
    )
    registry = build_registry(
        include_diagnostics=settings.enable_diagnostic_run_types, deps=operations
    )
    store = RunStore(storage.table(RUNS_TABLE))
    links = Links(settings.public_base_url)
    notifications = build_notifications(
        settings,
        storage,
        runs=store,
        tenants=tenants,
        registry=registry,
        view_url=lambda run: links.view(run.tenant_id, run.id),
        clock=utcnow,
    )
    runs = RunService(
        store,
        QueueDispatcher(storage.queue(RUNS_QUEUE)),
        registry,
        lease=settings.run_lease,
        stale_queued_after=settings.stale_queued_after,
        # Queued and finished events go to the notifications queue, never inline.
        events=RunMetricsEvents(notifications.emitter),
    )
    worker = RunWorker(
        runs,
        registry,
        retry=RetryPolicy(max_deliveries=host_max_dequeue_count()),
        progress_interval=settings.run_progress_min_interval_seconds,
    )
    return Services(
        settings=settings,
        storage=storage,
        registry=registry,
        runs=runs,
        worker=worker,
        tenants=tenants,
        operations=operations,
        notifications=notifications,
    )


@lru_cache(maxsize=1)
def services() -> Services:
    """Built on first use, not at import: the host indexes functions without storage."""
    return build_services(get_settings())


def reset_services() -> None:
    """Forget the process's services (after settings changed), closing their clients."""
    if services.cache_info().currsize:
        services().close()
    services.cache_clear()
