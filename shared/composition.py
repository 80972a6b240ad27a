"""The composition root: wires settings, storage and services once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from shared.config import RUNS_QUEUE, RUNS_TABLE, TENANTS_TABLE, Settings, get_settings
from shared.config import max_dequeue_count as host_max_dequeue_count
from shared.operations.catalogue import build_registry
from shared.operations.deps import OperationDeps
from shared.operations.graph_access import GraphAccess, GraphEndpoints
from shared.operations.registry import Registry
from shared.runs.dispatch import QueueDispatcher
from shared.runs.service import RunService
from shared.runs.store import RunStore
from shared.runs.worker import RetryPolicy, RunWorker
from shared.storage import StorageClients
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


def build_services(settings: Settings) -> Services:
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
    runs = RunService(
        RunStore(storage.table(RUNS_TABLE)),
        QueueDispatcher(storage.queue(RUNS_QUEUE)),
        registry,
        lease=settings.run_lease,
        stale_queued_after=settings.stale_queued_after,
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
    )


@lru_cache(maxsize=1)
def services() -> Services:
    """Built on first use, not at import: the host indexes functions without storage."""
    return build_services(get_settings())
