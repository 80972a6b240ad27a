"""The monitoring glance from run facts: attention, counts, the 14-day chart, percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.runs.glance import (
    CHART_DAYS,
    RecentRuns,
    RunFacts,
    glance_of,
    overview_of,
    percentile,
)
from shared.runs.model import RunOutcome, RunStatus

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def facts(
    run_type: str,
    outcome: RunOutcome,
    *,
    ago: timedelta,
    took: timedelta = timedelta(seconds=10),
    status: RunStatus | None = None,
) -> RunFacts:
    created = NOW - ago
    done = outcome is not RunOutcome.PENDING
    return RunFacts(
        run_id=f"r{ago.total_seconds()}",
        type=run_type,
        status=status or (RunStatus.COMPLETED if done else RunStatus.QUEUED),
        outcome=outcome,
        created_at=created,
        started_at=created if done or status is RunStatus.RUNNING else None,
        completed_at=created + took if done else None,
    )


def recent(*runs: RunFacts, locks: int = 0) -> RecentRuns:
    ordered = tuple(sorted(runs, key=lambda r: r.created_at, reverse=True))
    return RecentRuns("t", NOW - 7 * DAY, ordered, locks)


def test_a_quiet_tenant_needs_no_attention() -> None:
    item = overview_of(
        recent(facts("policy.sync", RunOutcome.SUCCEEDED, ago=timedelta(hours=3))),
        now=NOW,
        expected_intervals={"policy.sync": DAY, "backup.capture": DAY},
    )
    assert item.attention == () and item.failed_24h == 0
    assert item.last_success == {"policy.sync": NOW - timedelta(hours=3) + timedelta(seconds=10)}


def test_failures_long_queues_and_overdue_types_need_attention_in_that_order() -> None:
    runs = recent(
        facts("policy.sync", RunOutcome.FAILED, ago=timedelta(hours=2)),
        facts("policy.sync", RunOutcome.FAILED, ago=timedelta(hours=30)),  # older than 24 h
        facts("policy.sync", RunOutcome.SUCCEEDED, ago=3 * DAY),
        facts("backup.capture", RunOutcome.PENDING, ago=timedelta(minutes=12)),
        facts("backup.capture", RunOutcome.PENDING, ago=timedelta(minutes=2)),
        facts(
            "backup.capture", RunOutcome.PENDING, ago=timedelta(minutes=1), status=RunStatus.RUNNING
        ),
        locks=3,
    )
    item = overview_of(runs, now=NOW, expected_intervals={"policy.sync": DAY, "x.never": DAY})
    assert item.failed_24h == 1
    assert (item.running, item.queued, item.queued_too_long) == (1, 2, 1)
    assert item.oldest_queued_at == NOW - timedelta(minutes=12)
    assert [a.code for a in item.attention] == ["failed_recently", "queued_too_long", "overdue"]
    assert item.attention[2].run_type == "policy.sync"  # x.never never ran here: no flag
    assert "12 min" in item.attention[1].message


def test_urgency_puts_failures_before_backlogs_before_quiet_tenants() -> None:
    failing = overview_of(
        recent(facts("a", RunOutcome.FAILED, ago=timedelta(hours=1))),
        now=NOW,
        expected_intervals={},
    )
    waiting = overview_of(
        recent(facts("a", RunOutcome.PENDING, ago=timedelta(hours=1))),
        now=NOW,
        expected_intervals={},
    )
    quiet = overview_of(recent(), now=NOW, expected_intervals={})
    assert sorted([quiet, waiting, failing], key=lambda o: o.urgency) == [failing, waiting, quiet]


def test_a_lock_older_than_the_window_still_counts_as_active() -> None:
    item = overview_of(recent(locks=2), now=NOW, expected_intervals={})
    assert item.running + item.queued == 2


def test_glance_counts_chart_and_durations() -> None:
    runs = recent(
        facts("p", RunOutcome.SUCCEEDED, ago=timedelta(hours=1), took=timedelta(seconds=10)),
        facts("p", RunOutcome.SUCCEEDED, ago=timedelta(hours=2), took=timedelta(seconds=20)),
        facts("p", RunOutcome.FAILED, ago=3 * DAY, took=timedelta(seconds=100)),
        facts("b", RunOutcome.CANCELLED, ago=10 * DAY, took=timedelta(seconds=5)),
        facts("b", RunOutcome.SUCCEEDED, ago=20 * DAY),  # outside the chart
        facts("b", RunOutcome.PENDING, ago=timedelta(minutes=30)),
    )
    glance = glance_of(runs, now=NOW)
    assert glance.now_by_status == {"queued": 1, "running": 0}
    assert glance.last_24h == {
        "succeeded": 2,
        "partially_succeeded": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert glance.last_7d["failed"] == 1 and glance.last_7d["cancelled"] == 0
    assert len(glance.daily) == CHART_DAYS and glance.daily[-1].day == "2026-11-30"
    assert glance.daily[-1].outcomes["succeeded"] == 2
    assert glance.daily[-4].outcomes["failed"] == 1
    assert glance.daily[-11].outcomes["cancelled"] == 1
    assert sum(sum(d.outcomes.values()) for d in glance.daily) == 4
    p = next(d for d in glance.durations if d.type == "p")
    assert (p.count, p.p50_seconds, p.p95_seconds) == (3, 20.0, 100.0)
    assert glance.queued_too_long == 1


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.95) == 95.0
    assert percentile([], 0.5) == 0.0 and percentile([7.0], 0.95) == 7.0
