"""Index rows: filtered lists walk an index range and read no run rows for ended runs;
the rows are written with the run state they index and removed with the run."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from devstack.storage_requests import storage_requests
from shared.persistence.clients import StorageClients
from shared.runs.identity import LOCK_RANGE, RUN_RANGE, run_row_key
from shared.runs.index import READY_KEY, index_prefix, scan_plan
from shared.runs.listing import RunFilter
from shared.runs.model import Run, RunOutcome, RunStatus
from shared.runs.store import RunStore
from tests.integration.conftest import ALICE, BOB, Harness, make_service

INDEX_RANGE = ("~ix~", "~ix\x7f")


def _runs(harness: Harness) -> list[Run]:
    """Eight ended runs of two initiators and three outcomes, and one still queued."""
    ended = []
    outcomes = itertools.cycle(
        [RunOutcome.SUCCEEDED, RunOutcome.FAILED, RunOutcome.SUCCEEDED, RunOutcome.CANCELLED]
    )
    for index in range(8):
        harness.clock.advance(milliseconds=5)
        run, _ = harness.start(inputs={"items": index}, who=ALICE if index % 3 else BOB)
        ended.append(harness.service.finish(harness.tenant_id, run.id, next(outcomes)))
    harness.clock.advance(milliseconds=5)
    queued, _ = harness.start(inputs={"items": 99}, who=ALICE)
    return [*ended, queued]


def _ids(runs: list[Run]) -> list[str]:
    return [r.id for r in runs]


FILTERS = [
    RunFilter(outcome=RunOutcome.FAILED),
    RunFilter(outcome=RunOutcome.SUCCEEDED),
    RunFilter(initiator_id=ALICE.id),
    RunFilter(initiator_id=BOB.id, outcome=RunOutcome.SUCCEEDED),
    RunFilter(type="diagnostics.noop"),
    RunFilter(type="diagnostics.noop", status=RunStatus.COMPLETED),
    RunFilter(type="diagnostics.noop", initiator_id=ALICE.id, outcome=RunOutcome.CANCELLED),
    RunFilter(status=RunStatus.QUEUED),
    RunFilter(outcome=RunOutcome.PENDING, initiator_id=ALICE.id),
    RunFilter(status=RunStatus.COMPLETED),
    RunFilter(type="policy.sync"),
]


def _all_pages(harness: Harness, run_filter: RunFilter, limit: int) -> list[Run]:
    items, cursor = harness.service.list(harness.tenant_id, run_filter, limit=limit)
    while cursor:
        more, cursor = harness.service.list(
            harness.tenant_id, run_filter, limit=limit, cursor=cursor
        )
        items += more
    return items


@pytest.mark.parametrize("run_filter", FILTERS, ids=lambda f: repr(f)[10:-1])
def test_an_index_walk_lists_what_the_scan_lists_page_by_page(
    harness: Harness, run_filter: RunFilter
) -> None:
    runs = _runs(harness)
    scanned = _all_pages(harness, run_filter, limit=2)  # not ready yet: the scan
    assert harness.store.backfill_index(harness.tenant_id) == 0  # each run wrote its own
    indexed = _all_pages(harness, run_filter, limit=2)
    assert _ids(indexed) == _ids(scanned)
    expected = [
        r.id
        for r in reversed(runs)
        if (run_filter.type is None or r.type == run_filter.type)
        and (run_filter.status is None or r.status is run_filter.status)
        and (run_filter.outcome is None or r.outcome is run_filter.outcome)
        and (run_filter.initiator_id is None or r.initiator.id == run_filter.initiator_id)
    ]
    assert _ids(indexed) == expected


class CountingStore(RunStore):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.point_reads = 0

    def get(self, tenant_id: str, run_id: str) -> Run | None:
        self.point_reads += 1
        return super().get(tenant_id, run_id)


def test_a_filtered_page_reads_only_index_rows_and_active_runs_live(harness: Harness) -> None:
    runs = _runs(harness)
    harness.store.backfill_index(harness.tenant_id)
    store = CountingStore(harness.table)
    store.backfill_index(harness.tenant_id)  # already ready: marks this instance too
    service = make_service(store, harness.queue, harness.registry, harness.clock)

    failed, _ = service.list(harness.tenant_id, RunFilter(outcome=RunOutcome.FAILED))
    assert _ids(failed) == [r.id for r in reversed(runs) if r.outcome is RunOutcome.FAILED]
    assert store.point_reads == 0
    assert failed[0].summary_counts == runs[5].summary_counts  # the copy carries the summary

    claimed = harness.service.claim(harness.tenant_id, runs[-1].id).run
    assert claimed is not None
    alice, _ = service.list(harness.tenant_id, RunFilter(initiator_id=ALICE.id))
    assert alice[0].id == claimed.id and alice[0].status is RunStatus.RUNNING  # live
    assert store.point_reads == 1  # the one active run, no others


def test_index_rows_are_written_with_creation_and_the_terminal_write(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    keys = sorted(r["RowKey"] for r in harness.rows(INDEX_RANGE))
    mirrored = run_row_key(run.id)[len("run~") :]
    assert keys == sorted(
        [
            index_prefix("i", ALICE.id) + mirrored,
            index_prefix("t", "diagnostics.noop") + mirrored,
        ]
    )
    harness.service.finish(harness.tenant_id, run.id, RunOutcome.FAILED)
    rows = {r["RowKey"]: r for r in harness.rows(INDEX_RANGE)}
    assert index_prefix("o", "failed") + mirrored in rows and len(rows) == 3
    assert {r["Status"] for r in rows.values()} == {"completed"}
    assert {r["Outcome"] for r in rows.values()} == {"failed"}


def test_hostile_filter_values_stay_inside_their_own_range(harness: Harness) -> None:
    _runs(harness)
    harness.store.backfill_index(harness.tenant_id)
    for hostile in ("x' or PartitionKey ne 'y", "diagnostics.noop~", "@pk", "=", "a/b#c?"):
        assert harness.service.list(harness.tenant_id, RunFilter(type=hostile))[0] == []
        assert harness.service.list(harness.tenant_id, RunFilter(initiator_id=hostile))[0] == []
    assert not scan_plan(RunFilter()).uses_index


def _index_rows(harness: Harness) -> list[dict[str, Any]]:
    return [r for r in harness.rows(INDEX_RANGE) if r.get("Kind") == "index"]


def test_backfill_marks_ready_and_never_overwrites_a_fresher_row(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    for row in _index_rows(harness):  # a run from before the index: no index rows
        harness.table.delete_entity(row["PartitionKey"], row["RowKey"])
    assert harness.store.backfill_index(harness.tenant_id) == 2
    assert harness.table.get_entity(harness.tenant_id, READY_KEY)
    assert harness.store.backfill_index(harness.tenant_id) == 0  # ready: nothing to do

    # A row a terminal write put there after the walk read the run is newer: kept.
    [first, second] = _index_rows(harness)
    harness.table.upsert_entity({**first, "Status": "completed", "Fresh": True})
    harness.table.delete_entity(harness.tenant_id, second["RowKey"])
    harness.table.delete_entity(harness.tenant_id, READY_KEY)
    assert RunStore(harness.table).backfill_index(harness.tenant_id) == 1
    rows = {r["RowKey"]: r for r in _index_rows(harness)}
    assert rows[first["RowKey"]].get("Fresh") is True and second["RowKey"] in rows
    assert run.id


def test_an_unfiltered_list_never_asks_about_the_index_and_a_missing_one_rarely(
    harness: Harness, storage: StorageClients
) -> None:
    _runs(harness)
    with storage_requests(storage) as requests:
        for _ in range(3):
            harness.service.list(harness.tenant_id)
        asked_unfiltered = sum(READY_KEY in r.url for r in requests)
        for _ in range(3):
            harness.service.list(harness.tenant_id, RunFilter(initiator_id=BOB.id))
    assert asked_unfiltered == 0
    assert sum(READY_KEY in r.url for r in requests) == 1  # not ready: remembered a while


def test_index_rows_lie_beyond_the_lock_and_run_rows(harness: Harness) -> None:
    # shared.runs.recent reads one range from the lock rows into the run rows: index rows
    # must never fall inside it (they would eat its row budget).
    run, _ = harness.start(inputs={"items": 1})
    harness.service.finish(harness.tenant_id, run.id, RunOutcome.SUCCEEDED)
    keys = [r["RowKey"] for r in harness.rows(INDEX_RANGE)]
    assert len(keys) == 3
    assert all(key > RUN_RANGE[1] and key > LOCK_RANGE[1] for key in keys)
