"""Expired runs in the run table: finding the completed runs created before a cutoff, and
deleting each with its index rows. The run store's part of retention; which runs go and
in what order (locks, budgets, dependents first) is shared.retention's business.

Old runs are found without touching new ones: run RowKeys sort newest first (mirrored
ULIDs), so "created before the cutoff" is a RowKey range that starts at the cutoff.
Every run-row delete carries If-Match with the ETag read, so a row that changed since it
was read is left alone; a run and its index rows go in one entity-group transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableTransactionError

from shared.persistence.tables import MAX_BATCH, etag_of, purge_rows, storage_errors
from shared.runs.identity import (
    RUN_PREFIX,
    RUN_RANGE,
    run_id_floor,
    run_id_from_row_key,
    run_row_key,
)
from shared.runs.index import INDEX_ROWS_PER_RUN, index_keys_of
from shared.runs.rows import parse_datetime

_COMPLETED = "completed"
# What is read of an old run: enough to delete it, its dependents and its index rows.
_COLUMNS = ("PartitionKey", "RowKey", "Status", "CompletedAt", "InitiatorId", "Type", "Outcome")
# Runs per transaction: each with its index rows, <= 100 entities.
_RUNS_PER_TRANSACTION = MAX_BATCH // (1 + INDEX_ROWS_PER_RUN)


@dataclass(frozen=True)
class ExpiredRun:
    """A completed run created and finished before the cutoff, as read (with its ETag)."""

    tenant_id: str
    run_id: str
    initiator_id: str
    row_key: str
    etag: str | None
    index_keys: tuple[str, ...] = ()


@dataclass
class RunPurge:
    """What one purge of expired runs did."""

    deleted: list[ExpiredRun] = field(default_factory=list)
    transactions: int = 0
    changed: int = 0  # changed or gone since they were read: left alone


def older_runs_range(cutoff: datetime) -> tuple[str, str]:
    """RowKeys of runs created before `cutoff` (exclusive lower bound, exclusive upper)."""
    return run_row_key(run_id_floor(cutoff)), RUN_RANGE[1]


def expired_runs(
    table: TableClient, tenant_id: str, cutoff: datetime, page_size: int = MAX_BATCH
) -> Iterator[ExpiredRun]:
    lo, hi = older_runs_range(cutoff)
    with storage_errors("reading OperationRuns"):
        rows = table.query_entities(
            "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi and Status eq @status",
            parameters={"pk": tenant_id, "lo": lo, "hi": hi, "status": _COMPLETED},
            select=list(_COLUMNS),
            results_per_page=page_size,
        )
        for row in rows:
            if row.get("Status") != _COMPLETED or not row["RowKey"].startswith(RUN_PREFIX):
                continue
            completed_at = parse_datetime(row.get("CompletedAt"))
            if completed_at is not None and completed_at >= cutoff:
                continue  # created long ago but finished recently: not yet
            initiator_id = str(row.get("InitiatorId") or "")
            yield ExpiredRun(
                tenant_id=tenant_id,
                run_id=run_id_from_row_key(row["RowKey"]),
                initiator_id=initiator_id,
                row_key=row["RowKey"],
                etag=etag_of(row),
                index_keys=tuple(
                    index_keys_of(
                        row["RowKey"],
                        str(row.get("Type") or ""),
                        initiator_id,
                        str(row.get("Outcome") or ""),
                    )
                ),
            )


def purge_runs(table: TableClient, runs: Sequence[ExpiredRun]) -> RunPurge:
    """Each run with its index rows, in transactions of up to 100 entities."""
    result = RunPurge()
    for start in range(0, len(runs), _RUNS_PER_TRANSACTION):
        _purge_chunk(table, runs[start : start + _RUNS_PER_TRANSACTION], result)
    return result


def _purge_chunk(table: TableClient, runs: Sequence[ExpiredRun], result: RunPurge) -> None:
    operations: list[Any] = []
    for run in runs:
        operations.append(
            (
                "delete",
                {"PartitionKey": run.tenant_id, "RowKey": run.row_key},
                {"etag": run.etag, "match_condition": MatchConditions.IfNotModified},
            )
        )
        operations += [
            ("delete", {"PartitionKey": run.tenant_id, "RowKey": key}) for key in run.index_keys
        ]
    try:
        with storage_errors("deleting runs"):
            table.submit_transaction(operations)
        result.transactions += 1
        result.deleted += runs
        return
    except TableTransactionError:
        pass  # a row changed or vanished: the whole batch rolled back; go one by one
    for run in runs:
        try:
            with storage_errors("deleting a run"):
                table.delete_entity(
                    run.tenant_id,
                    run.row_key,
                    etag=run.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            result.deleted.append(run)
            purge_rows(table, run.tenant_id, run.index_keys)
        except (ResourceModifiedError, ResourceNotFoundError):
            result.changed += 1
        except HttpResponseError as error:
            if error.status_code not in (404, 412):
                raise
            result.changed += 1
