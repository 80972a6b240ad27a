"""Index rows of OperationRuns: filtered lists served by a key range, not a partition scan.

Table Storage answers a filter on a non-key property by examining rows in key order (at
most 1,000 per response) until it has enough matches: "Outcome: failed" on a tenant with
100,000 runs and few failures reads most of the partition. So each run also has index rows
in its tenant's partition, one per dimension a list filters on:

    ~ix~t~<type>~<mirrored run id>       every run
    ~ix~i~<initiator id>~<mirrored id>   every run
    ~ix~o~<outcome>~<mirrored id>        once it has ended

written in the same entity-group transaction as the run state they index (creation, and
the terminal write, which rewrites them). Each copies the list summary
(SUMMARY_PROPERTIES), so a filtered page needs no point reads; an index row's copy of an
*active* run is its creation state, and the list reads such (few) runs live. Active status
needs no index: the lock rows are the active runs.

Values outside [A-Za-z0-9._-] are written base64url-encoded behind "=", so no value can
reach into another value's key range (and no key holds a character Table Storage refuses).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from shared.runs.identity import RUN_PREFIX, RUN_RANGE
from shared.runs.listing import RunFilter
from shared.runs.model import Run, RunOutcome, RunStatus
from shared.runs.rows import SUMMARY_PROPERTIES

# "~" sorts after every letter: index rows lie beyond the run rows, so a range that starts
# at the lock rows and ends inside the run rows (shared.runs.recent) never walks them.
INDEX_PREFIX = "~ix~"
TYPE, INITIATOR, OUTCOME = "t", "i", "o"
INDEX_ROWS_PER_RUN = 3  # at most: type, initiator, outcome
# Written once a tenant's older runs have index rows (see RunStore.backfill_index).
READY_KEY = "~ix~ready"
_PLAIN = re.compile(r"^[A-Za-z0-9._-]*$")
_COPIED = tuple(p for p in SUMMARY_PROPERTIES if p not in ("PartitionKey", "RowKey"))


def _key_part(value: str) -> str:
    if _PLAIN.match(value):
        return value
    return "=" + base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def index_prefix(dimension: str, value: str) -> str:
    return f"{INDEX_PREFIX}{dimension}~{_key_part(value)}~"


def _mirrored(run_row_key: str) -> str:
    return run_row_key[len(RUN_PREFIX) :]


def index_keys(run: Run, run_row_key: str) -> list[str]:
    """The RowKeys of the run's index rows (the outcome one once it has ended)."""
    outcome = run.outcome.value if run.is_terminal else None
    return index_keys_of(run_row_key, run.type, run.initiator.id, outcome)


def index_keys_of(
    run_row_key: str, run_type: str, initiator_id: str, outcome: str | None
) -> list[str]:
    dimensions = [(TYPE, run_type), (INITIATOR, initiator_id)]
    if outcome is not None:
        dimensions.append((OUTCOME, outcome))
    return [index_prefix(d, v) + _mirrored(run_row_key) for d, v in dimensions]


def index_entities(run: Run, run_entity: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's index rows, each carrying the run's list summary."""
    summary = {p: run_entity[p] for p in _COPIED if p in run_entity}
    return [
        {"PartitionKey": run.tenant_id, "RowKey": key, "Kind": "index", **summary}
        for key in index_keys(run, run_entity["RowKey"])
    ]


def run_row_key_of(index_row_key: str, prefix: str) -> str:
    return RUN_PREFIX + index_row_key[len(prefix) :]


@dataclass(frozen=True)
class ListPlan:
    """Where a list walks and what the service still filters there (on copied fields)."""

    prefix: str  # RUN_PREFIX for the run rows themselves, else an index prefix
    key_range: tuple[str, str]
    filters: tuple[tuple[str, str], ...] = field(default=())
    active_only: bool = False  # walk the lock rows: the tenant's few active runs

    @property
    def uses_index(self) -> bool:
        return self.prefix != RUN_PREFIX

    def start_after(self, run_row_key: str) -> str:
        """The cursor (a run RowKey) as a position in this plan's range."""
        return self.prefix + _mirrored(run_row_key)


_ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def plan(run_filter: RunFilter) -> ListPlan:
    """Walk the most selective index; the rest is filtered server-side on copied fields.

    Selectivity is not measured: an outcome other than `succeeded` is rare by nature, an
    initiator is one person among many, a type one of a handful, and `succeeded` is most
    runs. Active runs (queued, running, pending) are the lock rows, always few.
    """
    f = run_filter
    if f.status in _ACTIVE or f.outcome is RunOutcome.PENDING:
        return ListPlan(RUN_PREFIX, RUN_RANGE, active_only=True)
    candidates: list[tuple[str, str, str]] = []  # (dimension, value, copied property)
    if f.outcome is not None and f.outcome is not RunOutcome.SUCCEEDED:
        candidates.append((OUTCOME, f.outcome.value, "Outcome"))
    if f.initiator_id is not None:
        candidates.append((INITIATOR, f.initiator_id, "InitiatorId"))
    if f.outcome is RunOutcome.SUCCEEDED:
        candidates.append((OUTCOME, f.outcome.value, "Outcome"))
    if f.type is not None:
        candidates.append((TYPE, f.type, "Type"))
    rest = [("Status", f.status.value)] if f.status is not None else []
    if not candidates:
        return ListPlan(RUN_PREFIX, RUN_RANGE, tuple(rest))
    (dimension, value, _), *others = candidates
    prefix = index_prefix(dimension, value)
    filters = tuple([(prop, v) for _, v, prop in others] + rest)
    return ListPlan(prefix, (prefix, prefix[:-1] + "\x7f"), filters)


def scan_plan(run_filter: RunFilter) -> ListPlan:
    """The run rows with every filter server-side: for a tenant whose older runs have no
    index rows yet (before its backfill), and the cost the index exists to avoid."""
    f = run_filter
    filters = [
        (prop, str(value))
        for prop, value in (
            ("Type", f.type),
            ("Status", f.status),
            ("Outcome", f.outcome),
            ("InitiatorId", f.initiator_id),
        )
        if value is not None
    ]
    return ListPlan(RUN_PREFIX, RUN_RANGE, tuple(filters))


def matches(run: Run, run_filter: RunFilter) -> bool:
    f = run_filter
    return (
        (f.type is None or run.type == f.type)
        and (f.status is None or run.status is f.status)
        and (f.outcome is None or run.outcome is f.outcome)
        and (f.initiator_id is None or run.initiator.id == f.initiator_id)
    )
