"""ensure_run + dispatch_or_fail against Azurite: dedupe, takeover, dispatch failure."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading

import pytest
from azure.data.tables import UpdateMode
from azure.storage.queue import QueueClient
from pydantic import BaseModel

from devstack.azurite import ROOT
from shared.errors import DispatchFailed, InputInvalid, PayloadTooLarge, UnknownRunType
from shared.runs.dispatch import QueueDispatcher, RunMessage
from shared.runs.identity import lock_row_key, run_row_key
from shared.runs.model import FailureCode, RunOutcome, RunStatus
from shared.runs.store import ActiveLock
from tests.integration.conftest import ALICE, BOB, Harness, add_type, make_service
from tests.integration.start_burst import INPUTS, burst


class BigInputs(BaseModel):
    blob: str


def test_start_creates_a_queued_run_its_lock_and_one_id_only_message(harness: Harness) -> None:
    run, created = harness.start(inputs={"items": 2})
    assert created and run.status is RunStatus.QUEUED and run.outcome is RunOutcome.PENDING
    [lock] = harness.lock_rows()
    assert lock["RunId"] == run.id and lock["RowKey"] == lock_row_key(run.identity_hash)
    [body] = harness.raw_messages()
    assert json.loads(body) == {
        "v": 1,
        "run_id": run.id,
        "tenant_id": run.tenant_id,
        "type": "diagnostics.noop",
        "token": json.loads(body)["token"],  # names this send; SDK-retry duplicates share it
    }
    assert harness.service.get(harness.tenant_id, run.id) == run


def test_identical_start_by_another_admin_returns_the_active_run(harness: Harness) -> None:
    first, _ = harness.start(inputs={"items": 2}, who=ALICE)
    again, created = harness.start(inputs={"items": 2, "fail_items": []}, who=BOB)
    assert not created and again.id == first.id and again.initiator == ALICE
    other, created_other = harness.start(inputs={"items": 3}, who=BOB)
    assert created_other and other.id != first.id
    assert len(harness.raw_messages()) == 2 and len(harness.lock_rows()) == 2


def test_invalid_and_oversized_inputs_write_nothing(harness: Harness) -> None:
    with pytest.raises(InputInvalid):
        harness.start(inputs={"items": "many"})
    with pytest.raises(UnknownRunType):
        harness.start(run_type="policy.nuke")
    add_type(harness.registry, "test.big", lambda ctx, inputs: None, BigInputs)
    with pytest.raises(PayloadTooLarge):
        harness.start(run_type="test.big", inputs={"blob": "x" * 40_000})
    assert harness.run_rows() == [] and harness.lock_rows() == [] and harness.raw_messages() == []


def test_fifty_threads_and_a_second_process_make_exactly_one_run(
    harness: Harness, azurite, tmp_path
) -> None:
    go_file = tmp_path / "go"
    other = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.start_burst",
            azurite.connection_string,
            harness.queue.queue_name,
            harness.tenant_id,
            "25",
            str(go_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdout.readline().strip() == "ready"
    go = threading.Event()
    local: list[dict] = []
    runner = threading.Thread(
        target=lambda: local.extend(burst(harness.service, harness.tenant_id, 50, go))
    )
    go_file.write_text("go")
    runner.start()
    runner.join(timeout=60)
    remote = json.loads(other.stdout.readline())
    other.wait(timeout=30)
    other.stdout.close()
    results = local + remote
    assert len(results) == 75
    assert len({r["run_id"] for r in results}) == 1
    assert sum(r["created"] for r in results) == 1
    assert len(harness.run_rows()) == 1 and len(harness.lock_rows()) == 1
    assert len(harness.raw_messages()) == 1
    assert json.loads(harness.run_rows()[0]["Inputs"]) == {"fail_items": [], **INPUTS}


def test_a_stale_lock_is_taken_over(harness: Harness) -> None:
    old, _ = harness.start(inputs={"items": 1})
    # Simulate a lock that outlived its run (e.g. a crash between two writes of an older
    # version): the run row says completed, the lock is still there.
    harness.table.update_entity(
        {
            "PartitionKey": harness.tenant_id,
            "RowKey": run_row_key(old.id),
            "Status": "completed",
            "Outcome": "failed",
        },
        mode=UpdateMode.MERGE,
    )
    new, created = harness.start(inputs={"items": 1})
    assert created and new.id != old.id
    [lock] = harness.lock_rows()
    assert lock["RunId"] == new.id


def test_stale_lock_is_removed_only_if_its_etag_is_unchanged(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 1})
    lock = harness.store.get_lock(harness.tenant_id, run.identity_hash)
    assert lock is not None
    outdated = ActiveLock(
        lock.tenant_id,
        lock.identity_hash,
        lock.run_id,
        etag="W/\"datetime'2001-01-01T00%3A00%3A00Z'\"",
    )
    assert harness.store.delete_lock(outdated) is False
    assert len(harness.lock_rows()) == 1
    assert harness.store.delete_lock(lock) is True
    assert harness.store.delete_lock(lock) is True  # already gone: counts as removed


def test_a_failed_dispatch_fails_the_run_releases_the_lock_and_a_retry_starts_fresh(
    harness: Harness, unique_name: str
) -> None:
    # A real SDK failure: the queue does not exist.
    broken = make_service(
        harness.store, harness.storage.queue(unique_name + "x"), harness.registry, harness.clock
    )
    run, created = broken.ensure_run(harness.tenant_id, "diagnostics.noop", {"items": 1}, ALICE)
    assert created
    with pytest.raises(DispatchFailed) as info:
        broken.dispatch_or_fail(run)
    failed = info.value.run
    assert failed.status is RunStatus.COMPLETED and failed.outcome is RunOutcome.FAILED
    assert [f.code for f in failed.failures] == [FailureCode.DISPATCH_FAILED]
    assert "QueueNotFound" in failed.failures[0].message or "not" in failed.failures[0].message
    assert harness.lock_rows() == []
    assert harness.service.get(harness.tenant_id, run.id).outcome is RunOutcome.FAILED
    retry, created = harness.start(inputs={"items": 1})
    assert created and retry.id != run.id and len(harness.raw_messages()) == 1


def test_dispatcher_sends_base64_as_the_functions_trigger_expects(harness: Harness) -> None:
    QueueDispatcher(harness.queue).send(RunMessage(run_id="r", tenant_id="t", type="x"))
    plain = QueueClient.from_connection_string(  # no decode policy: the wire form
        harness.storage.connection_string, harness.queue.queue_name
    )
    [wire] = plain.peek_messages()
    assert json.loads(base64.b64decode(wire.content))["run_id"] == "r"
