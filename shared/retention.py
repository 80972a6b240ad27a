"""Retention: purge completed runs older than a number of days, tenant by tenant.

What goes with a run: its in-app notifications (Inbox.purge_run), its delivery ledger
(`NotificationDeliveries`, PK run id), a restore run's ledger rows
(RestoreLedger.purge_run) and, for a capture run that never sealed its backup set, that
partial set and its blobs (BackupStore.purge_unsealed). A *complete* backup set outlives
the run that made it: it is the customer's data, restores read it. Each store owns its
key layout, the run store included (RunStore.expired_runs, RunStore.purge_runs); this
module only decides which runs go and in what order.

Never an active run:
- only rows with Status `completed` are candidates (the query says so, and so does a
  re-check of each row);
- a run whose id an active-lock row still names is skipped (a lock exists exactly while
  its run is queued or running; a lock naming a completed run is the reaper's business);
- the run store deletes a run only if its row is unchanged since it was read (If-Match),
  so a row that changed meanwhile is left alone.

Bounded: the run store deletes runs in entity-group transactions of at most 100 entities
(one tenant partition each), and one invocation deletes at most `max_runs_per_invocation`
runs, shared fairly between tenants. Dependents are deleted before their run, so a crash
half way leaves nothing orphaned: the next invocation finds the run and finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.backups.store import BackupStore
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.restore.ledger import RestoreLedger
from shared.runs.expiry import ExpiredRun
from shared.runs.store import RunStorePort
from shared.telemetry.spans import storage_span

MAX_TRANSACTION = 100  # entity-group transaction limit (one partition, <= 100 entities)


@dataclass(frozen=True)
class RetentionPolicy:
    max_age: timedelta
    max_runs_per_invocation: int = 2000
    batch_size: int = MAX_TRANSACTION

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_TRANSACTION:
            raise ValueError(f"batch_size must be 1..{MAX_TRANSACTION}")
        if self.max_runs_per_invocation < 1:
            raise ValueError("max_runs_per_invocation must be positive")
        if self.max_age <= timedelta(0):
            raise ValueError("max_age must be positive")


@dataclass
class RetentionReport:
    tenants: int = 0
    runs_deleted: int = 0
    skipped_locked: int = 0
    skipped_changed: int = 0
    transactions: int = 0
    notifications_deleted: int = 0
    deliveries_deleted: int = 0
    ledger_rows_deleted: int = 0
    backup_sets_deleted: int = 0
    blobs_deleted: int = 0
    index_rows_backfilled: int = 0
    capped: bool = False
    deleted_run_ids: list[str] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class RetentionStores:
    """The run rows, and the stores of what goes with a run; each store owns its key
    layout and says how to purge one run. Any dependent may be absent (not deployed)."""

    runs: RunStorePort
    inbox: Inbox | None = None
    deliveries: DeliveryLedger | None = None
    restore_ledger: RestoreLedger | None = None
    backups: BackupStore | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RunRetention:
    def __init__(
        self,
        tables: RetentionStores,
        policy: RetentionPolicy,
        *,
        clock: Callable[[], datetime] = _utcnow,
        backfill_index: Callable[[str], int] | None = None,
    ) -> None:
        self._t = tables
        self._policy = policy
        self._clock = clock
        # The hourly pass also gives each tenant's runs from before the run index their
        # index rows (once: a tenant marked ready costs nothing after that).
        self._backfill_index = backfill_index

    def purge(self, tenant_ids: Iterable[str]) -> RetentionReport:
        tenants = list(dict.fromkeys(tenant_ids))
        report = RetentionReport(tenants=len(tenants))
        cutoff = self._clock() - self._policy.max_age
        budget = self._policy.max_runs_per_invocation
        # A fair share per tenant first, so one tenant's backlog cannot starve the others;
        # what is left of the budget then goes to the tenants that used up their share.
        share = max(1, budget // max(1, len(tenants)))
        backlog: list[str] = []
        for tenant_id in tenants:
            if budget <= 0:
                report.capped = True
                break
            limit = min(share, budget)
            deleted = self._purge_tenant(tenant_id, cutoff, limit, report)
            budget -= deleted
            if deleted >= limit:
                backlog.append(tenant_id)
        for tenant_id in backlog:
            if budget <= 0:
                break
            budget -= self._purge_tenant(tenant_id, cutoff, budget, report)
        if budget <= 0:
            report.capped = True
        return report

    # -- one tenant ---------------------------------------------------------------------------

    def _purge_tenant(
        self, tenant_id: str, cutoff: datetime, limit: int, report: RetentionReport
    ) -> int:
        if self._backfill_index is not None:
            report.index_rows_backfilled += self._backfill_index(tenant_id)
        with storage_span("retention.purge_tenant", tenant_id) as span:
            deleted = self._purge_tenant_rows(tenant_id, cutoff, limit, report)
            span.set_attribute("retention.runs_deleted", deleted)
            return deleted

    def _purge_tenant_rows(
        self, tenant_id: str, cutoff: datetime, limit: int, report: RetentionReport
    ) -> int:
        locked = self._locked_run_ids(tenant_id)
        deleted = 0
        batch: list[ExpiredRun] = []
        for candidate in self._candidates(tenant_id, cutoff, locked, report):
            batch.append(candidate)
            if len(batch) >= min(self._policy.batch_size, limit - deleted):
                deleted += self._purge_batch(batch, report)
                batch = []
                if deleted >= limit:
                    break
        if batch and deleted < limit:
            deleted += self._purge_batch(batch, report)
        return deleted

    def _locked_run_ids(self, tenant_id: str) -> set[str]:
        return {lock.run_id for lock in self._t.runs.active_locks(tenant_id)}

    def _candidates(
        self, tenant_id: str, cutoff: datetime, locked: set[str], report: RetentionReport
    ) -> Iterator[ExpiredRun]:
        for run in self._t.runs.expired_runs(tenant_id, cutoff):
            if run.run_id in locked:
                report.skipped_locked += 1
                continue
            yield run

    def _purge_batch(self, batch: Sequence[ExpiredRun], report: RetentionReport) -> int:
        for candidate in batch:
            self._purge_dependents(candidate, report)
        purged = self._t.runs.purge_runs(batch)
        report.transactions += purged.transactions
        report.skipped_changed += purged.changed
        report.deleted_run_ids += [run.run_id for run in purged.deleted]
        report.runs_deleted += len(purged.deleted)
        return len(purged.deleted)

    # -- what goes with a run -----------------------------------------------------------------

    def _purge_dependents(self, c: ExpiredRun, report: RetentionReport) -> None:
        t = self._t
        if t.inbox is not None and c.initiator_id:
            report.notifications_deleted += t.inbox.purge_run(c.initiator_id, c.run_id)
        if t.deliveries is not None:
            report.deliveries_deleted += t.deliveries.purge_run(c.run_id)
        if t.restore_ledger is not None:
            report.ledger_rows_deleted += t.restore_ledger.purge_run(c.tenant_id, c.run_id)
        if t.backups is not None:
            # A capture run's backup set has the run's id.
            blobs = t.backups.purge_unsealed(c.tenant_id, c.run_id)
            if blobs is not None:
                report.backup_sets_deleted += 1
                report.blobs_deleted += blobs
