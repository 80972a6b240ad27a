"""Retention against Azurite: old completed runs go (with what belongs to them), nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared.backups.store import BackupStore
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    NOTIFICATION_DELIVERIES_TABLE,
    NOTIFICATIONS_TABLE,
    RESTORE_LEDGER_TABLE,
)
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.persistence.blobs import JsonBlobs
from shared.restore.ledger import RestoreLedger
from shared.retention import (
    RetentionPolicy,
    RetentionStores,
    RunRetention,
)
from shared.runs.expiry import older_runs_range
from shared.runs.identity import lock_row_key, new_run_id, run_id_floor, run_row_key
from shared.runs.model import RunStatus
from tests.integration.conftest import ALICE, Harness

pytestmark = pytest.mark.azurite

RETAIN = timedelta(days=30)


def _retention(h: Harness, **policy: Any) -> RunRetention:
    s = h.storage
    tables = RetentionStores(
        runs=h.store,
        inbox=Inbox(s.table(NOTIFICATIONS_TABLE)),
        deliveries=DeliveryLedger(
            s.table(NOTIFICATION_DELIVERIES_TABLE), lease=timedelta(minutes=5)
        ),
        restore_ledger=RestoreLedger(s.table(RESTORE_LEDGER_TABLE)),
        backups=BackupStore(
            s.table(BACKUP_SETS_TABLE), JsonBlobs(s.container(BACKUP_PAYLOADS_CONTAINER))
        ),
    )
    return RunRetention(
        tables,
        RetentionPolicy(max_age=RETAIN, **policy),
        clock=h.clock,
        backfill_index=h.store.backfill_index,
    )


def _completed_run(h: Harness, *, age: timedelta, finish_after: timedelta | None = None) -> str:
    """A noop run created `age` ago and finished then (or `finish_after` later)."""
    now = h.clock.now
    h.clock.now = now - age
    run, created = h.start(inputs={"label": uuid.uuid4().hex})
    assert created
    if finish_after is not None:
        h.clock.now += finish_after
    finished = h.deliver_next()
    assert finished is not None and finished.status is RunStatus.COMPLETED
    h.clock.now = now
    return run.id


def _exists(table: Any, pk: str, rk: str) -> bool:
    try:
        table.get_entity(pk, rk)
    except ResourceNotFoundError:
        return False
    return True


def _notify(h: Harness, run_id: str) -> None:
    inbox = h.storage.table(NOTIFICATIONS_TABLE)
    mirrored = run_row_key(run_id)[len("run~") :]
    for event in ("queued", "completed"):
        inbox.upsert_entity(
            {"PartitionKey": ALICE.id, "RowKey": f"{mirrored}~{event}", "RunId": run_id}
        )
    ledger = h.storage.table(NOTIFICATION_DELIVERIES_TABLE)
    ledger.upsert_entity({"PartitionKey": run_id, "RowKey": "completed~email", "State": "sent"})


def test_purges_old_completed_runs_with_their_notifications_and_deliveries(h: Harness) -> None:
    old = _completed_run(h, age=timedelta(days=40))
    recent = _completed_run(h, age=timedelta(days=2))
    late_finisher = _completed_run(h, age=timedelta(days=40), finish_after=timedelta(days=39))
    for run_id in (old, recent):
        _notify(h, run_id)

    report = _retention(h).purge([h.tenant_id])

    assert report.deleted_run_ids == [old]
    assert h.store.get(h.tenant_id, old) is None
    assert h.store.get(h.tenant_id, recent) is not None
    assert h.store.get(h.tenant_id, late_finisher) is not None
    inbox = h.storage.table(NOTIFICATIONS_TABLE)
    deliveries = h.storage.table(NOTIFICATION_DELIVERIES_TABLE)
    assert report.notifications_deleted == 2 and report.deliveries_deleted == 1
    assert not _exists(deliveries, old, "completed~email")
    assert _exists(deliveries, recent, "completed~email")
    recent_key = run_row_key(recent)[len("run~") :]
    assert _exists(inbox, ALICE.id, f"{recent_key}~completed")
    # The run index: the old run's rows went with it (in its transaction), the others stay.
    indexed = {r["RowKey"][-26:] for r in h.rows(("~ix~", "~ix\x7f")) if r.get("Kind") == "index"}
    old_key, late_key = (run_row_key(i)[len("run~") :] for i in (old, late_finisher))
    assert old_key not in indexed and {recent_key, late_key} <= indexed
    # Idempotent: a second pass finds nothing.
    assert _retention(h).purge([h.tenant_id]).runs_deleted == 0


def test_never_purges_an_active_run_or_one_a_lock_still_names(h: Harness) -> None:
    locked = _completed_run(h, age=timedelta(days=50))
    h.clock.now -= timedelta(days=60)
    queued, _ = h.start()  # never delivered: stays queued (active), with its lock
    h.clock.now += timedelta(days=60)
    # A lock row that still names a completed run (the reaper's business, not ours).
    h.table.upsert_entity(
        {"PartitionKey": h.tenant_id, "RowKey": lock_row_key("f" * 64), "RunId": locked}
    )

    report = _retention(h).purge([h.tenant_id])

    assert report.runs_deleted == 0
    assert report.skipped_locked == 1
    assert h.store.get(h.tenant_id, queued.id) is not None
    assert h.store.get(h.tenant_id, locked) is not None


def test_changed_rows_are_left_alone(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _completed_run(h, age=timedelta(days=40))
    retention = _retention(h)
    original = retention._candidates

    def touch_then_yield(*args: Any, **kwargs: Any) -> Any:
        for candidate in original(*args, **kwargs):
            # Somebody writes the row between our read and our delete.
            h.table.update_entity(
                {"PartitionKey": h.tenant_id, "RowKey": candidate.row_key, "Touched": True}
            )
            yield candidate

    monkeypatch.setattr(retention, "_candidates", touch_then_yield)
    report = retention.purge([h.tenant_id])
    assert report.runs_deleted == 0 and report.skipped_changed == 1
    assert h.store.get(h.tenant_id, old) is not None


def test_unsealed_backup_of_a_finished_capture_goes_a_complete_one_stays(h: Harness) -> None:
    partial = _completed_run(h, age=timedelta(days=40))
    sealed = _completed_run(h, age=timedelta(days=40))
    sets = h.storage.table(BACKUP_SETS_TABLE)
    blobs = h.storage.container(BACKUP_PAYLOADS_CONTAINER)
    ledger = h.storage.table(RESTORE_LEDGER_TABLE)
    for run_id, status in ((partial, "capturing"), (sealed, "complete")):
        sets.upsert_entity(
            {"PartitionKey": h.tenant_id, "RowKey": f"set~{run_id}", "Status": status}
        )
        sets.upsert_entity({"PartitionKey": h.tenant_id, "RowKey": f"item~{run_id}~dc~p1"})
        blobs.upload_blob(f"{h.tenant_id}/{run_id}/dc/p1.json", b"{}", overwrite=True)
        ledger.upsert_entity({"PartitionKey": h.tenant_id, "RowKey": f"{run_id}~dc~p1"})

    report = _retention(h).purge([h.tenant_id])

    assert sorted(report.deleted_run_ids) == sorted([partial, sealed])
    assert report.backup_sets_deleted == 1 and report.blobs_deleted == 1
    assert report.ledger_rows_deleted == 2
    assert not _exists(sets, h.tenant_id, f"set~{partial}")
    assert not _exists(sets, h.tenant_id, f"item~{partial}~dc~p1")
    assert _exists(sets, h.tenant_id, f"set~{sealed}")
    assert _exists(sets, h.tenant_id, f"item~{sealed}~dc~p1")
    names = [b.name for b in blobs.list_blobs(name_starts_with=f"{h.tenant_id}/")]
    assert names == [f"{h.tenant_id}/{sealed}/dc/p1.json"]


def _bulk_old_runs(h: Harness, count: int, age: timedelta) -> list[str]:
    """Copies of one completed run's row under fresh old ids, written 100 per transaction."""
    template_id = _completed_run(h, age=age)
    template = dict(h.table.get_entity(h.tenant_id, run_row_key(template_id)))
    ids = []
    rows = []
    for i in range(count):
        run_id = new_run_id(h.clock.now - age - timedelta(minutes=i + 1))
        ids.append(run_id)
        rows.append({**template, "RowKey": run_row_key(run_id)})
    for start in range(0, len(rows), 100):
        h.table.submit_transaction([("upsert", r) for r in rows[start : start + 100]])
    return [template_id, *ids]


def test_bounded_batches_and_a_cap_per_invocation(h: Harness) -> None:
    ids = _bulk_old_runs(h, 149, timedelta(days=45))  # 150 old completed runs
    retention = _retention(h, max_runs_per_invocation=120, batch_size=50)

    first = retention.purge([h.tenant_id])
    assert first.runs_deleted == 120 and first.capped
    # 50 + 50 + 20 runs, each with its 3 index rows: 25 runs (100 entities) a transaction.
    assert first.transactions == 5
    second = retention.purge([h.tenant_id])
    assert second.runs_deleted == 30 and not second.capped
    assert all(h.store.get(h.tenant_id, run_id) is None for run_id in ids)


def test_cap_is_shared_fairly_between_tenants(h: Harness, storage: Any) -> None:
    _bulk_old_runs(h, 99, timedelta(days=45))  # 100 in the harness tenant
    other = str(uuid.uuid4())
    template = dict(h.table.get_entity(h.tenant_id, h.run_rows()[0]["RowKey"]))
    other_id = new_run_id(h.clock.now - RETAIN * 2)
    h.table.upsert_entity({**template, "PartitionKey": other, "RowKey": run_row_key(other_id)})
    report = _retention(h, max_runs_per_invocation=100, batch_size=100).purge([h.tenant_id, other])
    # 100 // 2 tenants = 50 each first: the second tenant is not starved; what the
    # second tenant left of its share goes to the first in a second pass.
    assert report.runs_deleted == 100 and report.capped
    assert other_id in report.deleted_run_ids
    assert len(h.run_rows()) == 1


def test_older_runs_range_is_exactly_the_runs_created_before_the_cutoff(h: Harness) -> None:
    cutoff = h.clock.now
    before = new_run_id(cutoff - timedelta(milliseconds=1))
    after = new_run_id(cutoff)
    lo, hi = older_runs_range(cutoff)
    assert lo < run_row_key(before) < hi
    assert not lo < run_row_key(after) < hi
    assert run_id_floor(cutoff) <= after


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness
