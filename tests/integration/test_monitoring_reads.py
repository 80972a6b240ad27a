"""The monitoring reads against Azurite: one bounded range query per tenant (active locks
then runs in the window, newest first), the queue-health row, and the input summary the
run type declares, stored on the run row at creation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.api.monitoring import Monitor
from shared.config import QUEUE_HEALTH_TABLE, RUNS_QUEUE, TENANT_SUMMARIES_TABLE
from shared.monitoring.queue_status import QueueStatus, QueueStatusStore
from shared.persistence.clients import StorageClients
from shared.runs.model import RunOutcome, RunStatus
from shared.runs.recent import read_recent
from shared.runs.summaries import TenantSummaries
from shared.telemetry import queues as queue_health

from .conftest import Harness

pytestmark = pytest.mark.azurite


def test_recent_reads_locks_and_the_window_newest_first(harness: Harness) -> None:
    old, _ = harness.start(inputs={"label": "old"})
    harness.deliver_next()  # completes, its lock goes
    harness.clock.advance(days=3)
    done, _ = harness.start(inputs={"label": "done", "items": 2})
    harness.deliver_next()
    harness.clock.advance(minutes=1)
    waiting, _ = harness.start(inputs={"label": "waiting"})
    since = harness.clock.now - timedelta(days=1)
    recent = read_recent(harness.table, harness.tenant_id, since=since, max_rows=100)
    assert [r.run_id for r in recent.runs] == [waiting.id, done.id]  # `old` is out of window
    assert recent.active_locks == 1 and recent.complete
    first, second = recent.runs
    assert first.status is RunStatus.QUEUED and first.outcome is RunOutcome.PENDING
    assert second.outcome is RunOutcome.SUCCEEDED and second.completed_at is not None
    assert second.type == "diagnostics.noop"
    everything = read_recent(
        harness.table, harness.tenant_id, since=since - timedelta(days=5), max_rows=100
    )
    assert [r.run_id for r in everything.runs] == [waiting.id, done.id, old.id]


def test_recent_stops_at_its_row_bound_and_says_so(harness: Harness) -> None:
    for i in range(4):
        harness.start(inputs={"label": f"r{i}"})
    since = harness.clock.now - timedelta(hours=1)
    bounded = read_recent(harness.table, harness.tenant_id, since=since, max_rows=5)
    # 4 locks sort first, then one run: five rows, and more existed.
    assert bounded.active_locks == 4 and len(bounded.runs) == 1 and not bounded.complete


def test_recent_never_reads_another_partition(harness: Harness, tenant_id: str) -> None:
    harness.start(inputs={"label": "mine"})
    other = read_recent(
        harness.table,
        "00000000-0000-0000-0000-000000000000",
        since=harness.clock.now - timedelta(days=1),
        max_rows=10,
    )
    assert other.runs == () and other.active_locks == 0


def test_the_input_summary_is_stored_on_the_row_and_listed(harness: Harness) -> None:
    run, _ = harness.start(inputs={"label": "  nightly\ncheck ", "items": 3})
    assert run.input_summary == "nightly check · 3 items"
    [row] = [r for r in harness.run_rows() if r["IdentityHash"] == run.identity_hash]
    assert row["InputSummary"] == "nightly check · 3 items"
    stored = harness.store.get(harness.tenant_id, run.id)
    assert stored is not None and stored.input_summary == run.input_summary


def test_monitor_caches_a_tenant_for_a_few_seconds_only(harness: Harness) -> None:
    status = QueueStatusStore(harness.storage.table(QUEUE_HEALTH_TABLE))
    summaries = TenantSummaries(
        harness.table, harness.storage.table(TENANT_SUMMARIES_TABLE), clock=harness.clock
    )
    monitor = Monitor(harness.table, status, summaries, clock=harness.clock, cache_seconds=60)
    window = timedelta(days=1)
    assert monitor.recent(harness.tenant_id, "k", window, 10).runs == ()
    harness.start(inputs={"label": "new"})
    assert monitor.recent(harness.tenant_id, "k", window, 10).runs == ()  # cached
    monitor.cache_seconds = 0
    assert len(monitor.recent(harness.tenant_id, "k", window, 10).runs) == 1


def test_queue_health_is_kept_in_a_row_the_page_reads(
    storage: StorageClients, harness: Harness
) -> None:
    unique_name = f"{harness.queue.queue_name}h"
    work = storage.queue(unique_name)
    work.create_queue()
    try:
        work.send_message('{"v":1}')
        later = harness.clock.now + timedelta(minutes=5)
        health = queue_health.measure(
            storage, [unique_name, f"{unique_name}x"], clock=lambda: later
        )
        statuses = queue_health.as_statuses(health, later)
        assert [s.queue for s in statuses] == [unique_name]  # the missing queue is left out
        store = QueueStatusStore(storage.table(QUEUE_HEALTH_TABLE))
        store.save(statuses)
        got = store.get(unique_name)
        assert got is not None and got.depth == 1 and got.is_behind()
        assert got.measured_at == later
        assert not got.is_stale(later + timedelta(minutes=4))
        assert got.is_stale(later + timedelta(minutes=6))
        assert store.get(f"{unique_name}-never") is None
    finally:
        work.delete_queue()


def test_a_short_wait_is_not_behind() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert not QueueStatus(RUNS_QUEUE, 40, 30.0, 0, now).is_behind()
    assert not QueueStatus(RUNS_QUEUE, 0, 900.0, 0, now).is_behind()
    assert QueueStatus(RUNS_QUEUE, 1, 121.0, 0, now).view(now)["behind"] is True


def test_a_worker_claim_is_recorded_for_the_timeline(harness: Harness) -> None:
    run, _ = harness.start(inputs={"label": "timeline", "items": 1})
    harness.deliver_next()
    done = harness.store.get(harness.tenant_id, run.id)
    assert done is not None and done.attempt == 1
    assert done.claims == (done.started_at,)
