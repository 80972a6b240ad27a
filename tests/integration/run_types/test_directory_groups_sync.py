"""directory_groups.sync through the worker: the EntraGroups cache, its sync time,
removed groups, throttling and a malformed group."""

from __future__ import annotations

from datetime import UTC, datetime

from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.directory.groups import DirectoryGroup, GroupCacheState
from shared.runs.dispatch import RunMessage
from shared.runs.model import FailureCode, RunOutcome, RunStatus
from tests.integration.conftest import MAX_DELIVERIES, Harness

from .conftest import Env

CONTOSO = TENANTS[0]
SYNC = "directory_groups.sync"
STALE_GROUP = "00000000-0000-4000-8000-00000000dead"


def test_sync_fills_the_cache_records_the_time_and_drops_deleted_groups(
    harness: Harness, env: Env
) -> None:
    groups = env.deps.groups
    old = datetime(2024, 1, 1, tzinfo=UTC)
    groups.save_groups(CONTOSO_TENANT_ID, [DirectoryGroup(STALE_GROUP, "Gone")], "old", old)

    run, created = harness.start(SYNC)
    done = harness.deliver_next()

    assert created and done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert done.summary_counts == {
        "total": CONTOSO.groups,
        "processed": CONTOSO.groups,
        "succeeded": CONTOSO.groups,
        "failed": 0,
        "skipped": 0,
        "pages": 1,  # $top=999: one page for the whole directory
    }
    assert done.result is not None
    assert done.result["groups"] == CONTOSO.groups and done.result["removed"] == 1
    # One request: $top=999 lists the whole directory in one page.
    assert env.cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/groups") == 1
    cached = {g.id: g for g in groups.groups(CONTOSO_TENANT_ID)}
    assert len(cached) == CONTOSO.groups and STALE_GROUP not in cached
    with env.graph() as graph:
        pilot = next(
            g
            for g in graph.iter_items("/groups", {"$top": 999})
            if g["displayName"] == "SG-Intune-Windows-Pilot"
        )
    assert cached[pilot["id"]] == DirectoryGroup(
        pilot["id"], pilot["displayName"], pilot["description"], False, True
    )
    state = groups.sync_state(CONTOSO_TENANT_ID)
    assert isinstance(state, GroupCacheState)
    assert state.run_id == run.id and state.group_count == CONTOSO.groups
    assert state.synced_at.isoformat() == done.result["synced_at"]


def test_a_throttling_storm_is_waited_out(harness: Harness, env: Env) -> None:
    env.cloud.faults.throttle(tenant=CONTOSO_TENANT_ID, route="/v1.0/groups*", count=3)
    harness.start(SYNC)
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert done.summary_counts["succeeded"] == CONTOSO.groups
    assert len(env.sleeps) == 3 and all(s >= 1 for s in env.sleeps)  # honoured Retry-After


def test_throttling_that_outlasts_the_retries_goes_back_to_the_queue(
    harness: Harness, env: Env
) -> None:
    env.cloud.faults.throttle(tenant=CONTOSO_TENANT_ID, route="/v1.0/groups*", count=None)
    run, _ = harness.start(SYNC)
    delivery = harness.receive()
    for spent in range(1, MAX_DELIVERIES):
        # Each 429 re-schedules the message after its Retry-After, counting the delivery.
        assert harness.worker.process(delivery.body, delivery.dequeue_count) is None
        harness.queue.delete_message(delivery.id, delivery.pop_receipt)
        current = harness.service.get(CONTOSO_TENANT_ID, run.id)
        assert current.status is RunStatus.RUNNING and current.failures == ()
        assert current.lease_expires_at is not None
        assert current.lease_expires_at <= harness.clock()  # the attempt gave its lease back
        delivery = harness.wait_for_delivery()
        assert RunMessage.model_validate_json(delivery.body).deliveries == spent
    failed = harness.worker.process(delivery.body, delivery.dequeue_count)
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    assert [f.code for f in failed.failures] == [FailureCode.RETRIES_EXHAUSTED]
    assert "graph_throttled" in failed.failures[0].message or "429" in failed.failures[0].message
    assert env.deps.groups.sync_state(CONTOSO_TENANT_ID) is None


def test_a_malformed_group_is_one_failed_item_and_removes_nothing(
    harness: Harness, env: Env
) -> None:
    groups = env.deps.groups
    groups.save_groups(
        CONTOSO_TENANT_ID, [DirectoryGroup(STALE_GROUP, "Maybe gone")], "old", datetime.now(UTC)
    )
    env.cloud.faults.malformed(route="/v1.0/groups*", mode="missing_fields", count=1)
    harness.start(SYNC)
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.PARTIALLY_SUCCEEDED
    counts = done.summary_counts
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (
        CONTOSO.groups,
        CONTOSO.groups - 1,
        1,
    )
    assert [f.code for f in done.failures] == ["malformed_group"]
    assert done.result is not None and done.result["complete"] is False
    # An incomplete listing cannot prove a group is gone: the cache keeps it.
    assert STALE_GROUP in {g.id for g in groups.groups(CONTOSO_TENANT_ID)}
