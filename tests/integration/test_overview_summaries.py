"""The overview summaries against Azurite: a tenant's row is recomputed when a run is
created, claimed and finished (through the real run service and worker) and by the timer
sweep; an older recompute never overwrites a newer row; a missing or too old row is
computed on read; the stored digest, evaluated later, answers exactly what the live read
of the tenant's partition answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from shared.api.monitoring import Monitor
from shared.config import QUEUE_HEALTH_TABLE, TENANT_SUMMARIES_TABLE, Settings
from shared.errors import StorageUnavailable
from shared.monitoring.queue_status import QueueStatusStore
from shared.persistence.clients import StorageClients
from shared.run_types.cadence import EXPECTED_INTERVALS
from shared.runs import model
from shared.runs.context import RunContext
from shared.runs.digest import Digest, digest_of, evaluate
from shared.runs.glance import RecentRuns, RunFacts, TenantOverview, overview_of
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Initiator, Run, RunOutcome, RunStatus
from shared.runs.recent import read_recent
from shared.runs.run_type import Registry
from shared.runs.summaries import (
    OVERVIEW_MAX_ROWS,
    OVERVIEW_WINDOW,
    STALE_AFTER,
    SWEEP_AFTER,
    TenantSummaries,
)

from .conftest import LEASE, Harness, add_type

pytestmark = pytest.mark.azurite

WHO = Initiator(id="11111111-1111-1111-1111-111111111111", name="Alice")


@pytest.fixture
def harness_settings(harness_settings: Settings) -> Settings:
    """Recompute at once, in the caller, so each step can be checked as it happens."""
    return harness_settings.model_copy(update={"overview_refresh_delay_seconds": 0.0})


def summaries_of(harness: Harness, table_name: str = TENANT_SUMMARIES_TABLE) -> TenantSummaries:
    return TenantSummaries(harness.table, harness.storage.table(table_name), clock=harness.clock)


def row_of(harness: Harness, summaries: TenantSummaries | None = None) -> TenantOverview | None:
    """The tenant's overview row as the stored summary answers it now (None: no row)."""
    stored = (summaries or summaries_of(harness)).read([harness.tenant_id])
    digest = stored.get(harness.tenant_id)
    return None if digest is None else at(digest, harness)


def at(digest: Digest, harness: Harness) -> TenantOverview:
    now = harness.clock.now
    recent = evaluate(digest, now=now, window=OVERVIEW_WINDOW)
    return overview_of(recent, now=now, expected_intervals=EXPECTED_INTERVALS)


def live(harness: Harness) -> TenantOverview:
    """The overview row computed from the tenant's partition now, as before summaries."""
    now = harness.clock.now
    recent = read_recent(
        harness.table, harness.tenant_id, since=now - OVERVIEW_WINDOW, max_rows=OVERVIEW_MAX_ROWS
    )
    return overview_of(recent, now=now, expected_intervals=EXPECTED_INTERVALS)


def write_run(
    harness: Harness,
    run_type: str,
    *,
    ago: timedelta,
    outcome: RunOutcome | None = RunOutcome.SUCCEEDED,
    claimed: bool = False,
) -> Run:
    """A run written straight to the run table (no run event: nothing recomputes)."""
    created = harness.clock.now - ago
    inputs = {"n": uuid.uuid4().hex}
    run = model.new_run(
        run_id=new_run_id(created),
        tenant_id=harness.tenant_id,
        run_type=run_type,
        inputs=inputs,
        identity_hash=identity_hash(harness.tenant_id, run_type, inputs),
        initiator=WHO,
        now=created,
    )
    run = harness.store.create_with_lock(run)
    if outcome is None and not claimed:
        return run
    lock = harness.store.get_lock(harness.tenant_id, run.identity_hash)
    run = harness.store.replace(model.claim(run, now=created, lease=LEASE))
    if outcome is None:
        return run
    ended = model.finish(run, outcome=outcome, now=created + timedelta(seconds=30))
    return harness.store.replace_and_release(ended, lock)


@pytest.fixture
def private_summaries(harness: Harness, unique_name: str) -> Iterator[TenantSummaries]:
    """A summary table of the test's own: the sweep removes rows of tenants it is not
    given, which in the shared table would be other tests' tenants."""
    table = harness.storage.table(unique_name)
    table.create_table()
    try:
        yield summaries_of(harness, unique_name)
    finally:
        table.delete_table()


def test_the_row_follows_a_run_created_claimed_and_finished(
    harness: Harness, registry: Registry
) -> None:
    seen_by_handler: list[TenantOverview | None] = []

    def peek(ctx: RunContext, inputs: Any) -> dict[str, Any]:
        seen_by_handler.append(row_of(harness))  # claimed, not yet finished
        return {}

    add_type(registry, "test.peek", peek)
    assert row_of(harness) is None
    assert harness.start("test.peek")[1]  # created
    queued = row_of(harness)
    assert queued is not None and (queued.queued, queued.running) == (1, 0)

    harness.clock.advance(seconds=5)
    finished = harness.deliver_next()
    assert finished is not None and finished.outcome is RunOutcome.SUCCEEDED
    [running] = seen_by_handler
    assert running is not None and (running.queued, running.running) == (0, 1)
    done = row_of(harness)
    assert done is not None and (done.queued, done.running) == (0, 0)
    assert done.last_success == {"test.peek": finished.completed_at}
    assert done == live(harness)


def test_an_older_recompute_never_overwrites_a_newer_row(harness: Harness) -> None:
    summaries = summaries_of(harness)
    before = digest_of(
        read_recent(
            harness.table,
            harness.tenant_id,
            since=harness.clock.now - OVERVIEW_WINDOW,
            max_rows=OVERVIEW_MAX_ROWS,
        ),
        as_of=harness.clock.now,
    )  # read, then delayed: it knows no run
    harness.clock.advance(seconds=1)
    harness.start()  # recomputed at once: the newer row knows the queued run
    assert not summaries.save(before)
    row = row_of(harness)
    assert row is not None and row.queued == 1
    # The same digest stamped later is newer: it replaces the row (a compare-and-swap).
    harness.clock.advance(seconds=1)
    assert summaries.save(Digest(before.recent, harness.clock.now))
    row = row_of(harness)
    assert row is not None and row.queued == 0


def test_a_missing_row_is_computed_on_read_and_kept(harness: Harness) -> None:
    write_run(harness, "policy.sync", ago=timedelta(hours=1), outcome=RunOutcome.FAILED)
    summaries = summaries_of(harness)
    assert summaries.read([harness.tenant_id]) == {}
    monitor = Monitor(
        harness.table,
        QueueStatusStore(harness.storage.table(QUEUE_HEALTH_TABLE)),
        summaries,
        clock=harness.clock,
    )
    [digest] = monitor.summaries([harness.tenant_id])
    assert at(digest, harness).failed_24h == 1
    assert harness.tenant_id in summaries.read([harness.tenant_id])


def test_a_recent_row_is_answered_from_storage_a_too_old_one_recomputed(
    harness: Harness,
) -> None:
    summaries = summaries_of(harness)
    summaries.recompute(harness.tenant_id)  # no runs yet
    write_run(harness, "policy.sync", ago=timedelta(minutes=1), outcome=RunOutcome.FAILED)
    monitor = Monitor(
        harness.table,
        QueueStatusStore(harness.storage.table(QUEUE_HEALTH_TABLE)),
        summaries,
        clock=harness.clock,
    )
    harness.clock.advance(seconds=STALE_AFTER.total_seconds())
    [stored] = monitor.summaries([harness.tenant_id])
    assert at(stored, harness).failed_24h == 0  # the row, not a live read: the event was lost
    harness.clock.advance(seconds=1)
    [recomputed] = monitor.summaries([harness.tenant_id])
    assert at(recomputed, harness).failed_24h == 1
    assert recomputed.as_of == harness.clock.now


def test_the_sweep_recomputes_old_rows_and_removes_orphans(
    harness: Harness, private_summaries: TenantSummaries
) -> None:
    fresh, orphan = str(uuid.uuid4()), str(uuid.uuid4())
    private_summaries.recompute(harness.tenant_id)
    private_summaries.recompute(orphan)
    write_run(harness, "policy.sync", ago=timedelta(seconds=30), outcome=None)  # event lost
    harness.clock.advance(seconds=SWEEP_AFTER.total_seconds() - 1)
    private_summaries.recompute(fresh)
    harness.clock.advance(seconds=2)

    report = private_summaries.sweep([harness.tenant_id, fresh])

    assert (report.rows, report.recomputed, report.removed, report.failed) == (3, 1, 1, 0)
    stored = private_summaries.read([harness.tenant_id, fresh, orphan])
    assert set(stored) == {harness.tenant_id, fresh}
    assert stored[harness.tenant_id].as_of == harness.clock.now
    assert at(stored[harness.tenant_id], harness).queued == 1
    assert stored[fresh].as_of < harness.clock.now  # young enough: left alone


def test_windows_roll_without_a_recompute(harness: Harness) -> None:
    write_run(harness, "backup.capture", ago=timedelta(minutes=5), outcome=None)
    write_run(harness, "policy.sync", ago=timedelta(hours=20), outcome=RunOutcome.FAILED)
    write_run(harness, "policy.sync", ago=timedelta(hours=22))
    digest = summaries_of(harness).recompute(harness.tenant_id)
    first = at(digest, harness)
    assert (first.queued_too_long, first.failed_24h) == (0, 1)
    assert [(a.code, a.run_type) for a in first.attention] == [
        ("failed_recently", None),
        ("overdue", "backup.capture"),  # used, never succeeded
    ]
    harness.clock.advance(hours=5)  # queued 5 h 5 min, failed 25 h ago, synced 27 h ago
    later = at(digest, harness)
    assert later.queued_too_long == 1 and later.failed_24h == 0
    assert [(a.code, a.run_type) for a in later.attention] == [
        ("queued_too_long", None),
        ("overdue", "backup.capture"),
        ("overdue", "policy.sync"),
    ]
    assert later == live(harness)


def test_the_summary_answers_what_the_live_read_answers(harness: Harness) -> None:
    """A tenant with every kind of fact, evaluated at the recompute and at later times."""
    write_run(harness, "backup.capture", ago=timedelta(minutes=30), outcome=None)
    write_run(harness, "backup.capture", ago=timedelta(minutes=2), outcome=None)
    write_run(harness, "policy.sync", ago=timedelta(minutes=3), outcome=None, claimed=True)
    for hours, outcome in (
        (1, RunOutcome.FAILED),
        (2, RunOutcome.SUCCEEDED),
        (5, RunOutcome.PARTIALLY_SUCCEEDED),
        (23, RunOutcome.FAILED),
        (30, RunOutcome.FAILED),
        (50, RunOutcome.CANCELLED),
        (26, RunOutcome.SUCCEEDED),
        (150, RunOutcome.SUCCEEDED),
    ):
        write_run(harness, "policy.sync", ago=timedelta(hours=hours), outcome=outcome)
    write_run(harness, "directory_groups.sync", ago=timedelta(days=6), outcome=RunOutcome.FAILED)
    write_run(harness, "backup.capture", ago=timedelta(days=2))
    digest = summaries_of(harness).recompute(harness.tenant_id)
    assert len(digest.recent.runs) < 13  # only the facts that can matter are kept
    for later in (
        timedelta(0),
        timedelta(minutes=9),
        timedelta(hours=1),
        timedelta(hours=23),
        timedelta(days=1, hours=2),
        timedelta(days=3),
        timedelta(days=6, hours=12),
        timedelta(days=8),
    ):
        clock = harness.clock
        saved = clock.now
        clock.now = saved + later
        try:
            assert at(digest, harness) == live(harness), later
        finally:
            clock.now = saved


def test_a_summary_row_never_holds_run_inputs(harness: Harness, storage: StorageClients) -> None:
    harness.start(inputs={"label": "secret-ish label"})
    row = storage.table(TENANT_SUMMARIES_TABLE).get_entity("overview", harness.tenant_id)
    text = " ".join(str(v) for v in row.values())
    assert "secret-ish" not in text and "Alice" not in text


def test_a_digest_larger_than_a_property_is_stored_and_read_whole(harness: Harness) -> None:
    now = harness.clock.now
    queued = tuple(
        RunFacts(
            run_id=new_run_id(now - timedelta(seconds=n)),
            type="backup.capture",
            status=RunStatus.QUEUED,
            outcome=RunOutcome.PENDING,
            created_at=now - timedelta(seconds=n),
        )
        for n in range(OVERVIEW_MAX_ROWS)
    )
    big = Digest(RecentRuns(harness.tenant_id, now - OVERVIEW_WINDOW, queued, 500, False), now)
    summaries = summaries_of(harness)
    assert summaries.save(big)
    row = harness.storage.table(TENANT_SUMMARIES_TABLE).get_entity("overview", harness.tenant_id)
    assert row["Parts"] > 1
    other = str(uuid.uuid4())
    summaries.recompute(other)  # a one-part row read by the same query
    stored = summaries.read([harness.tenant_id, other])
    assert stored[harness.tenant_id] == big
    assert stored[other].recent.runs == ()


class OneFailedWrite:
    """The summary table, with its next write failing: before the call, or after it took
    effect (the caller sees an error either way)."""

    def __init__(self, table: Any, mode: str) -> None:
        self._table = table
        self._mode = mode
        self.failed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def _write(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.failed:
            return getattr(self._table, name)(*args, **kwargs)
        self.failed += 1
        if self._mode == "before":
            raise ServiceRequestError("injected: the write never left")
        getattr(self._table, name)(*args, **kwargs)
        raise ServiceResponseError("injected: written, the answer lost")

    def create_entity(self, *args: Any, **kwargs: Any) -> Any:
        return self._write("create_entity", *args, **kwargs)

    def update_entity(self, *args: Any, **kwargs: Any) -> Any:
        return self._write("update_entity", *args, **kwargs)


@pytest.mark.parametrize("mode", ["before", "ambiguous"])
def test_a_failed_summary_write_is_caught_up_by_the_next_recompute(
    harness: Harness, mode: str
) -> None:
    write_run(harness, "policy.sync", ago=timedelta(hours=1), outcome=RunOutcome.FAILED)
    table = OneFailedWrite(harness.storage.table(TENANT_SUMMARIES_TABLE), mode)
    summaries = TenantSummaries(harness.table, table, clock=harness.clock)
    with pytest.raises(StorageUnavailable):
        summaries.recompute(harness.tenant_id)
    assert table.failed == 1
    # Not written, or written in full: never a half row.
    stored = summaries.read([harness.tenant_id])
    assert (harness.tenant_id in stored) is (mode == "ambiguous")
    if stored:
        assert at(stored[harness.tenant_id], harness) == live(harness)
    # The next change's recompute writes over whatever the failed one left.
    write_run(harness, "backup.capture", ago=timedelta(minutes=1), outcome=RunOutcome.FAILED)
    harness.clock.advance(seconds=1)
    summaries.recompute(harness.tenant_id)
    row = row_of(harness, summaries)
    assert row is not None and row == live(harness) and row.failed_24h == 2
