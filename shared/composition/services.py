"""The full side of the composition root: the run service and worker, the run types and
their stores, notifications and retention, for writes, queue and timer triggers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from shared.backups.store import BackupStore
from shared.composition.graph_tuning import graph_tuning
from shared.composition.notifications import NotificationServices, build_notifications
from shared.composition.root import Foundation, foundation, on_reset
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    ENTRA_GROUPS_TABLE,
    NOTIFICATION_DELIVERIES_TABLE,
    NOTIFICATIONS_TABLE,
    POLICY_INVENTORY_TABLE,
    POLICY_PAYLOADS_CONTAINER,
    RESTORE_LEDGER_TABLE,
    RUNS_QUEUE,
    RUNS_TABLE,
    TENANT_SUMMARIES_TABLE,
    TENANTS_TABLE,
    Settings,
)
from shared.config import max_dequeue_count as host_max_dequeue_count
from shared.directory.groups import EntraGroupsStore
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.persistence.blobs import JsonBlobs
from shared.persistence.clients import StorageClients
from shared.policies.inventory import PolicyInventoryStore
from shared.restore.ledger import RestoreLedger
from shared.retention import RetentionPolicy, RetentionStores, RunRetention
from shared.run_types.catalogue import build_registry
from shared.run_types.graph_access import GraphAccess, GraphEndpoints
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.dispatch import QueueDispatcher
from shared.runs.links import Links
from shared.runs.outbox import Outbox
from shared.runs.refresh import Debouncer, SummaryEvents
from shared.runs.run_type import Registry
from shared.runs.service import DispatchPolicy, RunService
from shared.runs.store import RunStore
from shared.runs.summaries import TenantSummaries
from shared.runs.worker import RetryPolicy, RunWorker
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
    operations: RunTypeDeps
    notifications: NotificationServices
    retention: RunRetention
    summaries: TenantSummaries
    # Marks tenants whose overview summary a run event changed; recomputes them shortly.
    summary_refresh: Debouncer

    def close(self) -> None:
        """Release network clients (tests and hosts that rebuild services call this)."""
        self.notifications.close()


def build_operations(base: Foundation, tenants: TenantStore) -> RunTypeDeps:
    """The Intune run types: Graph per managed tenant (its Tenants row) and their stores."""
    overrides, tuning = base.overrides, graph_tuning()
    graph = GraphAccess(
        tenants,
        GraphEndpoints.from_settings(base.settings),
        apps=tuning.apps,
        retry=tuning.retry,
        sleep=tuning.sleep,
        transport=overrides.graph_transport,
    )
    return RunTypeDeps(
        graph=graph,
        groups=EntraGroupsStore(base.table(ENTRA_GROUPS_TABLE)),
        inventory=PolicyInventoryStore(
            base.table(POLICY_INVENTORY_TABLE),
            JsonBlobs(base.container(POLICY_PAYLOADS_CONTAINER)),
        ),
        backups=BackupStore(
            base.table(BACKUP_SETS_TABLE),
            JsonBlobs(base.container(BACKUP_PAYLOADS_CONTAINER)),
        ),
        ledger=RestoreLedger(base.table(RESTORE_LEDGER_TABLE)),
        clock=base.clock,
    )


def build_retention(base: Foundation) -> RunRetention:
    """Every table a run's data lives in, and the settings' policy."""
    settings = base.settings
    runs = RunStore(base.table(RUNS_TABLE))
    tables = RetentionStores(
        runs=runs,
        inbox=Inbox(base.table(NOTIFICATIONS_TABLE)),
        deliveries=DeliveryLedger(
            base.table(NOTIFICATION_DELIVERIES_TABLE),
            lease=timedelta(seconds=settings.notify_send_lease_seconds),
        ),
        restore_ledger=RestoreLedger(base.table(RESTORE_LEDGER_TABLE)),
        backups=BackupStore(
            base.table(BACKUP_SETS_TABLE),
            JsonBlobs(base.container(BACKUP_PAYLOADS_CONTAINER)),
        ),
    )
    policy = RetentionPolicy(
        max_age=timedelta(days=settings.run_retention_days),
        max_runs_per_invocation=settings.retention_max_runs_per_invocation,
    )
    # The hourly pass also backfills the run index of tenants whose runs predate it.
    return RunRetention(tables, policy, clock=base.clock, backfill_index=runs.backfill_index)


def build_services(base: Foundation) -> Services:
    settings, storage, overrides = base.settings, base.storage, base.overrides
    configure_telemetry(settings)  # OpenTelemetry only if App Insights is configured
    tenants = TenantStore(base.table(TENANTS_TABLE))
    operations = build_operations(base, tenants)
    registry = overrides.registry or build_registry(
        include_diagnostics=settings.enable_diagnostic_run_types, deps=operations
    )
    store = RunStore(base.table(RUNS_TABLE))
    links = Links(settings.public_base_url)
    summaries = TenantSummaries(
        base.table(RUNS_TABLE), base.table(TENANT_SUMMARIES_TABLE), clock=base.clock
    )
    refresh = Debouncer(summaries.recompute, delay=settings.overview_refresh_delay_seconds)
    events = SummaryEvents(refresh.touch, RunMetricsEvents())
    notifications = build_notifications(
        base,
        runs=store,
        tenants=tenants,
        registry=registry,
        view_url=lambda run: links.view(run.tenant_id, run.id),
        clock=base.clock,
    )
    runs = RunService(
        store,
        overrides.dispatcher or QueueDispatcher(base.queue(RUNS_QUEUE)),
        registry,
        lease=settings.run_lease,
        stale_queued_after=settings.stale_queued_after,
        events=events,
        # Queued and finished notices are committed with the run, then relayed in batches
        # off the request path (shared.runs.relay), never inline.
        outbox=Outbox(store, notifications.emitter, run_after=overrides.outbox_run_after),
        dispatch=DispatchPolicy(
            redispatch_after=settings.redispatch_after,
            lost_after=settings.dispatch_lost_after,
            max_redispatches=settings.run_max_redispatches,
        ),
        clock=base.clock,
    )
    worker = RunWorker(
        runs,
        registry,
        retry=RetryPolicy(
            max_deliveries=host_max_dequeue_count(),
            max_retry_after=settings.run_max_retry_after_seconds,
        ),
        progress_interval=settings.run_progress_min_interval_seconds,
        claimed=events.run_claimed,
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
        retention=build_retention(base),
        summaries=summaries,
        summary_refresh=refresh,
    )


@lru_cache(maxsize=1)
def services() -> Services:
    """Built on first use, not at import: the host indexes functions without storage."""
    return build_services(foundation())


def _forget() -> None:
    if services.cache_info().currsize:
        services().close()
    services.cache_clear()


on_reset(_forget)
