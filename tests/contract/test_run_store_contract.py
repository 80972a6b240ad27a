"""The run store's contract, on Azurite and on the in-memory table: the same calls, the
same answers. Races and faults are then tested on the in-memory one with confidence."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import ConcurrentUpdate, StorageUnavailable
from shared.runs import model
from shared.runs.identity import new_run_id, outbox_row_key, run_row_key
from shared.runs.index import index_keys
from shared.runs.listing import RunFilter
from shared.runs.model import Initiator, Run, RunOutcome
from shared.runs.store import LockHeld, RunStore

TENANT = "3f2b6c1e-0000-4000-8000-000000000002"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ALICE = Initiator(id="alice", name="Alice")


def _run(identity: str = "same", at: datetime = NOW) -> Run:
    return model.new_run(
        run_id=new_run_id(at),
        tenant_id=TENANT,
        run_type="diagnostics.noop",
        inputs={},
        identity_hash=identity,
        initiator=ALICE,
        now=at,
    )


def _outbox(run: Run, event: str) -> dict[str, Any]:
    return {
        "PartitionKey": run.tenant_id,
        "RowKey": outbox_row_key(run.id, event),
        "RunId": run.id,
        "Event": event,
        "CreatedAt": run.updated_at,
    }


def test_create_with_lock_and_extra_rows_is_one_transaction(table: Any) -> None:
    store = RunStore(table)
    winner = _run()
    first = store.create_with_lock(winner, [_outbox(winner, "queued")])
    assert first.etag and store.get(TENANT, first.id) == first
    loser = _run()
    with pytest.raises(LockHeld):
        store.create_with_lock(loser, [_outbox(loser, "queued")])
    assert store.get(TENANT, loser.id) is None
    assert [r.run_id for r in store.outbox(TENANT)] == [first.id]
    lock = store.get_lock(TENANT, "same")
    assert lock is not None and lock.run_id == first.id


def test_a_new_runs_rows_are_inserted_never_written_over(table: Any) -> None:
    """Its index rows' keys name the new run: one already there is a fault, not a row to
    replace, and the whole start fails with nothing written."""
    store = RunStore(table)
    run = _run()
    [type_key, _] = index_keys(run, run_row_key(run.id))
    table.create_entity({"PartitionKey": TENANT, "RowKey": type_key, "Kind": "stray"})
    with pytest.raises(StorageUnavailable):
        store.create_with_lock(run)
    assert store.get(TENANT, run.id) is None and store.get_lock(TENANT, "same") is None
    assert table.get_entity(TENANT, type_key)["Kind"] == "stray"


def test_replace_is_a_compare_and_swap(table: Any) -> None:
    store = RunStore(table)
    run = store.create_with_lock(_run())
    claimed = store.replace(model.claim(run, now=NOW, lease=timedelta(minutes=1), token="t"))
    assert claimed.etag != run.etag and store.get(TENANT, run.id) == claimed
    with pytest.raises(ConcurrentUpdate):
        store.replace(model.claim(run, now=NOW, lease=timedelta(minutes=1), token="u"))
    assert store.get(TENANT, run.id).claim_token == "t"  # type: ignore[union-attr]  # noqa: S105


def test_the_terminal_write_releases_the_lock_and_adds_the_notice_or_does_nothing(
    table: Any,
) -> None:
    store = RunStore(table)
    run = store.create_with_lock(_run())
    lock = store.get_lock(TENANT, "same")
    ended = model.finish(run, outcome=RunOutcome.SUCCEEDED, now=NOW)
    stale = dataclasses.replace(lock, etag="W/\"datetime'2000-01-01T00%3A00%3A00Z'\"")  # type: ignore[arg-type]
    with pytest.raises(ConcurrentUpdate):
        store.replace_and_release(ended, stale, [_outbox(ended, "completed")])
    assert store.get(TENANT, run.id) == run and store.outbox(TENANT) == []
    saved = store.replace_and_release(ended, lock, [_outbox(ended, "completed")])
    assert saved.is_terminal and store.get_lock(TENANT, "same") is None
    [notice] = store.outbox(TENANT, run.id)
    assert (notice.run_id, notice.event, notice.created_at) == (run.id, "completed", NOW)
    store.remove_outbox(notice)
    store.remove_outbox(notice)  # gone already is fine
    assert store.outbox(TENANT) == []


def test_outbox_ranges_are_per_run_and_per_tenant(table: Any) -> None:
    store = RunStore(table)
    a_run = _run("a")
    a = store.create_with_lock(a_run, [_outbox(a_run, "queued")])
    b_run = _run("b", NOW + timedelta(seconds=1))
    store.create_with_lock(b_run, [_outbox(b_run, "queued")])
    assert {r.event for r in store.outbox(TENANT)} == {"queued"}
    assert len(store.outbox(TENANT)) == 2
    assert [r.run_id for r in store.outbox(TENANT, a.id)] == [a.id]
    assert store.outbox("3f2b6c1e-0000-4000-8000-00000000ffff") == []


def test_tenants_with_runs_are_indexed_once(table: Any) -> None:
    store = RunStore(table)
    store.note_tenant(TENANT)
    store.note_tenant(TENANT)
    RunStore(table).note_tenant("3f2b6c1e-0000-4000-8000-000000000003")
    assert sorted(store.tenants_with_runs()) == [TENANT, "3f2b6c1e-0000-4000-8000-000000000003"]


def test_listing_filters_newest_first(table: Any) -> None:
    store = RunStore(table)
    older = store.create_with_lock(_run("a"))
    newer = store.create_with_lock(_run("b", NOW + timedelta(seconds=1)))
    store.replace_and_release(
        model.finish(older, outcome=RunOutcome.FAILED, now=NOW), store.get_lock(TENANT, "a")
    )
    page, more = store.list(TENANT, RunFilter(), limit=10)
    assert [r.id for r in page] == [newer.id, older.id] and more is None
    failed, _ = store.list(TENANT, RunFilter(outcome=RunOutcome.FAILED), limit=10)
    assert [r.id for r in failed] == [older.id]
    first, cursor = store.list(TENANT, RunFilter(), limit=1)
    assert [r.id for r in first] == [newer.id] and cursor is not None


def _ended(store: RunStore, identity: str, created: datetime, ended: datetime) -> Run:
    run = store.create_with_lock(_run(identity, created))
    return store.end_own_run(model.finish(run, outcome=RunOutcome.SUCCEEDED, now=ended))


def _keys_of(table: Any, run_id: str) -> list[str]:
    """The RowKeys of a run's rows: its run row and its index rows (all end in its key)."""
    mirrored = run_row_key(run_id)[len("run~") :]
    rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": TENANT})
    return sorted(row["RowKey"] for row in rows if row["RowKey"].endswith(mirrored))


def test_expired_runs_go_with_their_index_rows_only_if_unchanged(table: Any) -> None:
    store = RunStore(table)
    long_ago, cutoff = NOW - timedelta(days=40), NOW - timedelta(days=30)
    old = _ended(store, "old", long_ago, long_ago)
    touched = _ended(store, "touched", long_ago + timedelta(seconds=1), long_ago)
    late = _ended(store, "late", long_ago + timedelta(seconds=2), NOW)  # finished recently
    recent = _ended(store, "recent", NOW, NOW)
    active = store.create_with_lock(_run("active", long_ago + timedelta(seconds=3)))

    expired = list(store.expired_runs(TENANT, cutoff))
    assert [run.run_id for run in expired] == [touched.id, old.id]  # newest first
    assert len(_keys_of(table, old.id)) == 4  # the run row and its 3 index rows
    store.replace(store.get(TENANT, touched.id))  # type: ignore[arg-type]  # written meanwhile

    purged = store.purge_runs(expired)

    assert [run.run_id for run in purged.deleted] == [old.id] and purged.changed == 1
    assert _keys_of(table, old.id) == []
    assert len(_keys_of(table, touched.id)) == 4
    for kept in (touched, late, recent, active):
        assert store.get(TENANT, kept.id) is not None
    # A retried purge: a run gone already is fine (the SDK's delete ignores a 404), a
    # changed one is still left alone.
    again = store.purge_runs(expired)
    assert [run.run_id for run in again.deleted] == [old.id] and again.changed == 1
    assert store.get(TENANT, touched.id) is not None
    fresh = list(store.expired_runs(TENANT, cutoff))
    assert [run.run_id for run in fresh] == [touched.id]
    final = store.purge_runs(fresh)
    assert final.deleted == fresh and final.transactions == 1 and _keys_of(table, touched.id) == []
