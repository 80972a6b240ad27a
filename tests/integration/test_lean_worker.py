"""The worker path does no storage work its floor does not: one read (the claim), one swap,
one terminal transaction. `finish` writes from the run the worker holds, with its ETag, and
falls back to reading only when that swap loses."""

from __future__ import annotations

from typing import Any

from shared.runs.model import Run, RunOutcome, RunStatus
from shared.runs.service import RunService
from shared.runs.store import ActiveLock, RunStore
from shared.runs.worker import RetryPolicy, RunWorker
from tests.integration.conftest import MAX_DELIVERIES, Harness, make_service


class ReadCountingStore(RunStore):
    """The real store, counting the point reads the service makes through it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads: list[str] = []

    def get(self, tenant_id: str, run_id: str) -> Run | None:
        self.reads.append("run")
        return super().get(tenant_id, run_id)

    def get_lock(self, tenant_id: str, identity_hash: str) -> ActiveLock | None:
        self.reads.append("lock")
        return super().get_lock(tenant_id, identity_hash)


def counting(harness: Harness) -> tuple[ReadCountingStore, RunService]:
    store = ReadCountingStore(harness.table)
    return store, make_service(store, harness.queue, harness.registry, harness.clock)


def test_a_delivery_reads_the_run_once_and_finish_reads_nothing(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 3})
    store, service = counting(harness)
    claimed = service.claim(harness.tenant_id, run.id).run
    assert claimed is not None and claimed.etag
    assert store.reads == ["run"]

    done = service.finish(harness.tenant_id, run.id, RunOutcome.SUCCEEDED, attempt=1, held=claimed)

    assert store.reads == ["run"]  # the claim's read only
    assert done.outcome is RunOutcome.SUCCEEDED and done.status is RunStatus.COMPLETED
    assert harness.lock_rows() == []
    assert harness.store.get(harness.tenant_id, run.id) == done


def test_finish_from_a_stale_held_run_rereads_and_keeps_the_cancel_request(
    harness: Harness,
) -> None:
    run, _ = harness.start()
    claimed = harness.service.claim(harness.tenant_id, run.id).run
    assert claimed is not None
    harness.service.cancel(harness.tenant_id, run.id)  # changes the row's ETag
    store, service = counting(harness)

    done = service.finish(harness.tenant_id, run.id, RunOutcome.SUCCEEDED, attempt=1, held=claimed)

    assert store.reads == ["run", "lock"]  # the lost swap, then the usual path
    assert done.outcome is RunOutcome.SUCCEEDED and done.cancel_requested
    assert harness.lock_rows() == []


def test_finish_from_a_held_run_whose_lock_is_gone_still_ends_the_run(harness: Harness) -> None:
    run, _ = harness.start()
    claimed = harness.service.claim(harness.tenant_id, run.id).run
    assert claimed is not None
    lock = harness.store.get_lock(harness.tenant_id, claimed.identity_hash)
    assert lock is not None and harness.store.delete_lock(lock)

    done = harness.service.finish(
        harness.tenant_id, run.id, RunOutcome.SUCCEEDED, attempt=1, held=claimed
    )

    assert done.status is RunStatus.COMPLETED
    assert harness.store.get(harness.tenant_id, run.id) == done


def test_the_worker_path_reads_the_run_once(harness: Harness) -> None:
    harness.start(inputs={"items": 2})
    store, service = counting(harness)
    worker = RunWorker(
        service, harness.registry, retry=RetryPolicy(MAX_DELIVERIES), progress_interval=0.0
    )
    delivery = harness.receive()

    ended = worker.process(delivery.body, delivery.dequeue_count)

    assert ended is not None and ended.outcome is RunOutcome.SUCCEEDED
    assert store.reads == ["run"]
