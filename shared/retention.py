"""Retention: purge completed runs older than a number of days, tenant by tenant.

What goes with a run: its in-app notifications (Inbox.purge_run), its delivery ledger
(`NotificationDeliveries`, PK run id), a restore run's ledger rows
(RestoreLedger.purge_run) and, for a capture run that never sealed its backup set, that
partial set and its blobs (BackupStore.purge_unsealed). A *complete* backup set outlives
the run that made it: it is the customer's data, restores read it. Each store owns its
key layout; this module only decides which runs go and in what order.

Never an active run:
- only rows with Status `completed` are candidates (the query says so, and so does a
  re-check of each row);
- a run whose id an active-lock row still names is skipped (a lock exists exactly while
  its run is queued or running; a lock naming a completed run is the reaper's business);
- every run-row delete carries If-Match with the ETag read, so a row that changed since
  it was read is left alone.

Bounded: run rows go in entity-group transactions of at most 100 deletes (one tenant
partition each), and one invocation deletes at most `max_runs_per_invocation` runs,
shared fairly between tenants. Dependents are deleted before their run, so a crash
half way leaves nothing orphaned: the next invocation finds the run and finishes.

Old runs are found without touching new ones: run RowKeys sort newest first (mirrored
ULIDs), so "created before the cutoff" is a RowKey range that starts at the cutoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableTransactionError

from shared.backups.store import BackupStore
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.persistence.tables import (
    etag_of,
    purge_rows,
    query_range,
    storage_errors,
)
from shared.restore.ledger import RestoreLedger
from shared.runs.identity import (
    LOCK_RANGE,
    RUN_PREFIX,
    RUN_RANGE,
    run_id_floor,
    run_id_from_row_key,
)
from shared.runs.identity import run_row_key as _run_row_key
from shared.runs.index import INDEX_ROWS_PER_RUN, index_keys_of
from shared.telemetry.spans import storage_span

log = logging.getLogger(__name__)

MAX_TRANSACTION = 100  # entity-group transaction limit (one partition, <= 100 entities)
_COMPLETED = "completed"
# What retention reads of an old run: enough to delete it, its dependents and index rows.
_CANDIDATE_COLUMNS = (
    "PartitionKey",
    "RowKey",
    "Status",
    "CompletedAt",
    "InitiatorId",
    "Type",
    "Outcome",
)


def older_runs_range(cutoff: datetime) -> tuple[str, str]:
    """RowKeys of runs created before `cutoff` (exclusive lower bound, exclusive upper)."""
    return _run_row_key(run_id_floor(cutoff)), RUN_RANGE[1]


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

    runs: TableClient
    inbox: Inbox | None = None
    deliveries: DeliveryLedger | None = None
    restore_ledger: RestoreLedger | None = None
    backups: BackupStore | None = None


@dataclass(frozen=True)
class _Candidate:
    tenant_id: str
    run_id: str
    row_key: str
    etag: str | None
    initiator_id: str
    index_keys: tuple[str, ...] = ()


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
        batch: list[_Candidate] = []
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
        rows = query_range(self._t.runs, tenant_id, LOCK_RANGE, ("RunId",))
        return {str(row["RunId"]) for row in rows if row.get("RunId")}

    def _candidates(
        self, tenant_id: str, cutoff: datetime, locked: set[str], report: RetentionReport
    ) -> Iterator[_Candidate]:
        lo, hi = older_runs_range(cutoff)
        with storage_errors("reading OperationRuns"):
            rows = self._t.runs.query_entities(
                "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi and Status eq @status",
                parameters={"pk": tenant_id, "lo": lo, "hi": hi, "status": _COMPLETED},
                select=list(_CANDIDATE_COLUMNS),
                results_per_page=MAX_TRANSACTION,
            )
            for row in rows:
                if row.get("Status") != _COMPLETED or not row["RowKey"].startswith(RUN_PREFIX):
                    continue
                completed_at = row.get("CompletedAt")
                if isinstance(completed_at, datetime) and _aware(completed_at) >= cutoff:
                    continue  # created long ago but finished recently: not yet
                run_id = run_id_from_row_key(row["RowKey"])
                if run_id in locked:
                    report.skipped_locked += 1
                    continue
                yield _Candidate(
                    tenant_id=tenant_id,
                    run_id=run_id,
                    row_key=row["RowKey"],
                    etag=etag_of(row),
                    initiator_id=str(row.get("InitiatorId") or ""),
                    index_keys=tuple(
                        index_keys_of(
                            row["RowKey"],
                            str(row.get("Type") or ""),
                            str(row.get("InitiatorId") or ""),
                            str(row.get("Outcome") or ""),
                        )
                    ),
                )

    def _purge_batch(self, batch: Sequence[_Candidate], report: RetentionReport) -> int:
        for candidate in batch:
            self._purge_dependents(candidate, report)
        deleted = self._delete_runs(batch, report)
        for candidate in deleted:
            report.deleted_run_ids.append(candidate.run_id)
        report.runs_deleted += len(deleted)
        return len(deleted)

    def _delete_runs(
        self, batch: Sequence[_Candidate], report: RetentionReport
    ) -> list[_Candidate]:
        """Each run with its index rows, in transactions of up to 100 entities."""
        done: list[_Candidate] = []
        chunk = MAX_TRANSACTION // (1 + INDEX_ROWS_PER_RUN)
        for start in range(0, len(batch), chunk):
            done += self._delete_chunk(batch[start : start + chunk], report)
        return done

    def _delete_chunk(
        self, batch: Sequence[_Candidate], report: RetentionReport
    ) -> list[_Candidate]:
        operations: list[Any] = []
        for c in batch:
            operations.append(
                (
                    "delete",
                    {"PartitionKey": c.tenant_id, "RowKey": c.row_key},
                    {"etag": c.etag, "match_condition": MatchConditions.IfNotModified},
                )
            )
            operations += [
                ("delete", {"PartitionKey": c.tenant_id, "RowKey": key}) for key in c.index_keys
            ]
        try:
            with storage_errors("deleting runs"):
                self._t.runs.submit_transaction(operations)
            report.transactions += 1
            return list(batch)
        except TableTransactionError:
            pass  # a row changed or vanished: the whole batch rolled back; go one by one
        done: list[_Candidate] = []
        for candidate in batch:
            try:
                with storage_errors("deleting a run"):
                    self._t.runs.delete_entity(
                        candidate.tenant_id,
                        candidate.row_key,
                        etag=candidate.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                done.append(candidate)
                purge_rows(self._t.runs, candidate.tenant_id, candidate.index_keys)
            except (ResourceModifiedError, ResourceNotFoundError):
                report.skipped_changed += 1
            except HttpResponseError as error:
                if error.status_code not in (404, 412):
                    raise
                report.skipped_changed += 1
        return done

    # -- what goes with a run -----------------------------------------------------------------

    def _purge_dependents(self, c: _Candidate, report: RetentionReport) -> None:
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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
