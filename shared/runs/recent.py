"""A tenant's recent runs for the monitoring glance: one bounded range query per tenant.

Run row keys are mirrored ULIDs (newest first) and lock rows (`active~`) sort before them
(`a` < `r`), so one query over [`active~`, the run key of the window's start] returns the
tenant's active locks followed by its runs created since then, newest first. Only the
columns the glance needs are selected and the rows are capped, so the cost per tenant is
bounded however busy the tenant is.

Issue "Performance at tenant scale" adds outcome/type index rows; this module is the one
place to switch to them.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from azure.data.tables import TableClient

from shared.persistence.errors import SDK_ERRORS, unavailable
from shared.runs.glance import RecentRuns, RunFacts
from shared.runs.identity import (
    LOCK_PREFIX,
    RUN_PREFIX,
    run_id_floor,
    run_id_from_row_key,
    run_row_key,
)
from shared.runs.model import RunOutcome, RunStatus
from shared.runs.rows import parse_datetime

_COLUMNS = ["RowKey", "Type", "Status", "Outcome", "CreatedAt", "StartedAt", "CompletedAt"]


def read_recent(
    table: TableClient, tenant_id: str, *, since: datetime, max_rows: int
) -> RecentRuns:
    """Active locks and runs created since `since` (at most `max_rows` rows in all)."""
    entities = table.query_entities(
        "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
        parameters={"pk": tenant_id, "lo": LOCK_PREFIX, "hi": run_row_key(run_id_floor(since))},
        select=_COLUMNS,
        results_per_page=min(max_rows + 1, 1000),
    )
    try:
        rows = list(itertools.islice(entities, max_rows + 1))
    except SDK_ERRORS as error:
        raise unavailable(error, "OperationRuns") from error
    locks = sum(1 for r in rows[:max_rows] if r["RowKey"].startswith(LOCK_PREFIX))
    runs = tuple(_facts(r) for r in rows[:max_rows] if r["RowKey"].startswith(RUN_PREFIX))
    return RecentRuns(tenant_id, since, runs, locks, complete=len(rows) <= max_rows)


def _facts(row: Any) -> RunFacts:
    created = parse_datetime(row["CreatedAt"])
    assert created is not None  # noqa: S101 - written on every run row
    return RunFacts(
        run_id=run_id_from_row_key(row["RowKey"]),
        type=str(row.get("Type", "")),
        status=RunStatus(row["Status"]),
        outcome=RunOutcome(row["Outcome"]),
        created_at=created,
        started_at=parse_datetime(row.get("StartedAt")),
        completed_at=parse_datetime(row.get("CompletedAt")),
    )
