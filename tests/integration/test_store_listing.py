"""Listing: newest first, server-side filters bound to one partition, opaque cursor."""

from __future__ import annotations

import uuid

import pytest

from shared.errors import ConcurrentUpdate, InvalidRequest, PayloadTooLarge
from shared.runs.listing import RunFilter
from shared.runs.model import Failure, RunOutcome, RunStatus
from tests.integration.conftest import ALICE, BOB, Harness


def _start_many(harness: Harness, count: int) -> list[str]:
    ids = []
    for index in range(count):
        harness.clock.advance(milliseconds=5)
        run, _ = harness.start(inputs={"items": index}, who=ALICE if index % 2 else BOB)
        ids.append(run.id)
    return ids


def test_runs_are_listed_newest_first_across_pages(harness: Harness) -> None:
    ids = _start_many(harness, 7)
    page1, cursor = harness.service.list(harness.tenant_id, limit=3)
    assert [r.id for r in page1] == ids[::-1][:3] and cursor
    page2, cursor = harness.service.list(harness.tenant_id, limit=3, cursor=cursor)
    page3, last = harness.service.list(harness.tenant_id, limit=3, cursor=cursor)
    assert [r.id for r in page1 + page2 + page3] == ids[::-1] and last is None
    exact, none_left = harness.service.list(harness.tenant_id, limit=7)
    assert len(exact) == 7 and none_left is None


def test_filters_are_applied_by_the_server(harness: Harness) -> None:
    ids = _start_many(harness, 6)
    harness.service.cancel(harness.tenant_id, ids[0])
    mine, _ = harness.service.list(harness.tenant_id, RunFilter(initiator_id=ALICE.id))
    assert {r.id for r in mine} == {ids[1], ids[3], ids[5]}
    cancelled, _ = harness.service.list(harness.tenant_id, RunFilter(outcome=RunOutcome.CANCELLED))
    assert [r.id for r in cancelled] == [ids[0]]
    queued, _ = harness.service.list(
        harness.tenant_id, RunFilter(status=RunStatus.QUEUED, type="diagnostics.noop")
    )
    assert len(queued) == 5
    none, _ = harness.service.list(harness.tenant_id, RunFilter(type="policy.sync"))
    assert none == []


def test_listing_never_crosses_partitions_even_with_odata_looking_values(
    harness: Harness, storage
) -> None:
    _start_many(harness, 2)
    assert harness.service.list(str(uuid.uuid4()))[0] == []
    assert len(harness.service.list(harness.tenant_id)[0]) == 2
    for hostile in ("x' or PartitionKey ne 'y", "' or 1 eq 1 or Type eq '", "@pk", "a eq b"):
        items, _ = harness.service.list(harness.tenant_id, RunFilter(type=hostile))
        assert items == []
        items, _ = harness.service.list(harness.tenant_id, RunFilter(initiator_id=hostile))
        assert items == []


def test_bad_cursors_are_a_clear_error(harness: Harness) -> None:
    for cursor in ("nope", "eyJhZnRlciI6ImFjdGl2ZX4ifQ"):
        with pytest.raises(InvalidRequest):
            harness.service.list(harness.tenant_id, cursor=cursor)


def test_a_stale_etag_loses_the_swap(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    harness.service.cancel(harness.tenant_id, run.id)
    with pytest.raises(ConcurrentUpdate):
        harness.store.replace(run)


def test_oversized_failure_lists_are_capped_to_fit_the_row(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    huge = tuple(Failure(code="x", message="y" * 1000) for _ in range(60))
    done = harness.service.finish(harness.tenant_id, run.id, RunOutcome.FAILED, failures=huge)
    assert done.outcome is RunOutcome.FAILED
    stored = harness.service.get(harness.tenant_id, run.id).failures
    assert 0 < len(stored) < 60 and stored[-1].code == "failures_truncated"
    assert stored[-1].message == f"{61 - len(stored)} more failures not shown"


def test_an_oversized_result_is_refused_before_any_write(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    with pytest.raises(PayloadTooLarge):
        harness.service.finish(
            harness.tenant_id, run.id, RunOutcome.SUCCEEDED, result={"x": "y" * 40_000}
        )
    assert harness.service.get(harness.tenant_id, run.id).status is RunStatus.QUEUED


def test_a_list_page_reads_summaries_not_inputs_failures_or_results(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 7, "label": "x" * 200})
    harness.service.finish(
        harness.tenant_id,
        run.id,
        RunOutcome.FAILED,
        failures=(Failure(code="boom", message="y" * 5_000),),
        result={"big": "z" * 20_000},
    )
    [listed], _ = harness.service.list(harness.tenant_id)
    assert listed.id == run.id and listed.outcome is RunOutcome.FAILED
    assert listed.initiator == run.initiator and listed.created_at == run.created_at
    # The heavy columns never left storage for a list page; the detail read has them.
    assert listed.inputs == {} and listed.failures == () and listed.result is None
    full = harness.service.get(harness.tenant_id, run.id)
    assert full.inputs["label"] == "x" * 200 and full.failures and full.result
