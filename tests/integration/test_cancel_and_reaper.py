"""Cancel in each state, and the reaper walking lock ranges."""

from __future__ import annotations

import pytest
from azure.data.tables import UpdateMode

from shared.errors import InvalidTransition, NotFound
from shared.runs.identity import run_row_key
from shared.runs.model import FailureCode, RunOutcome, RunStatus
from tests.integration.conftest import LEASE, STALE_QUEUED, Harness


def test_cancelling_a_queued_run_ends_it_now_and_the_worker_then_drops_it(
    harness: Harness,
) -> None:
    run, _ = harness.start(inputs={"items": 1})
    cancelled = harness.service.cancel(harness.tenant_id, run.id)
    assert (cancelled.status, cancelled.outcome) == (RunStatus.COMPLETED, RunOutcome.CANCELLED)
    assert harness.lock_rows() == []
    assert harness.deliver_next() is None
    with pytest.raises(InvalidTransition):
        harness.service.cancel(harness.tenant_id, run.id)


def test_cancelling_a_running_run_only_requests_it(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    claimed = harness.claim(run.id)
    assert claimed is not None
    asked = harness.service.cancel(harness.tenant_id, run.id)
    assert asked.status is RunStatus.RUNNING and asked.cancel_requested
    assert harness.service.cancel(harness.tenant_id, run.id).etag == asked.etag  # idempotent
    assert len(harness.lock_rows()) == 1


def test_cancel_of_an_unknown_or_foreign_run_is_not_found(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    with pytest.raises(NotFound):
        harness.service.cancel("00000000-0000-0000-0000-000000000000", run.id)
    with pytest.raises(NotFound):
        harness.service.get("00000000-0000-0000-0000-000000000000", run.id)


def test_progress_after_a_concurrent_change_merges_and_keeps_the_cancel_request(
    harness: Harness,
) -> None:
    run, _ = harness.start(inputs={"items": 1})
    claimed = harness.claim(run.id)
    assert claimed is not None
    harness.service.cancel(harness.tenant_id, run.id)  # changes the ETag under the worker
    saved = harness.service.save_progress(claimed, {"total": 5, "processed": 2})
    assert saved.cancel_requested and saved.summary_counts == {"total": 5, "processed": 2}
    assert saved.etag != claimed.etag


def test_progress_from_a_worker_that_lost_its_run_is_refused(harness: Harness) -> None:
    from shared.runs.context import RunLost

    run, _ = harness.start(inputs={"items": 1})
    first = harness.claim(run.id)
    assert first is not None
    harness.clock.advance(seconds=LEASE.total_seconds() + 1)
    second = harness.claim(run.id)
    assert second is not None and second.attempt == 2
    with pytest.raises(RunLost):
        harness.service.save_progress(first, {"processed": 1})
    with pytest.raises(RunLost):
        harness.service.finish(
            harness.tenant_id, run.id, RunOutcome.SUCCEEDED, attempt=first.attempt
        )


def test_reaper_fails_stale_queued_and_expired_leases_and_leaves_the_rest(
    harness: Harness,
) -> None:
    stale, _ = harness.start(inputs={"items": 1})
    harness.clock.advance(seconds=STALE_QUEUED.total_seconds() - 60)
    fresh, _ = harness.start(inputs={"items": 2})
    expired, _ = harness.start(inputs={"items": 3})
    healthy, _ = harness.start(inputs={"items": 4})
    assert harness.claim(expired.id)
    harness.clock.advance(seconds=120)
    assert harness.claim(healthy.id)
    harness.clock.advance(seconds=LEASE.total_seconds() - 60)

    report = harness.service.reap([harness.tenant_id])

    assert report.stale_queued == [stale.id] and report.lease_expired == [expired.id]
    outcome = {
        r.id: r
        for r in (
            harness.service.get(harness.tenant_id, x.id) for x in (stale, fresh, expired, healthy)
        )
    }
    assert outcome[stale.id].failures[-1].code == FailureCode.STALE_QUEUED
    assert outcome[expired.id].failures[-1].code == FailureCode.LEASE_EXPIRED
    assert outcome[fresh.id].status is RunStatus.QUEUED
    assert outcome[healthy.id].status is RunStatus.RUNNING
    assert {row["RunId"] for row in harness.lock_rows()} == {fresh.id, healthy.id}
    again = harness.service.reap([harness.tenant_id])  # failing twice is harmless
    assert again.stale_queued == [] and again.lease_expired == []


def test_reaper_removes_orphaned_locks_and_only_visits_the_tenants_it_is_given(
    harness: Harness,
) -> None:
    run, _ = harness.start(inputs={"items": 1})
    harness.table.update_entity(
        {
            "PartitionKey": harness.tenant_id,
            "RowKey": run_row_key(run.id),
            "Status": "completed",
            "Outcome": "failed",
        },
        mode=UpdateMode.MERGE,
    )
    assert harness.service.reap(["00000000-0000-0000-0000-000000000000"]).locks_seen == 0
    report = harness.service.reap([harness.tenant_id])
    assert report.stale_locks_removed == 1 and harness.lock_rows() == []
