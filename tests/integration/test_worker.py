"""The worker wrapper over a real Azurite queue: claim, progress, outcome, retries, poison."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import TransientError
from shared.runs.context import RunContext
from shared.runs.dispatch import RunMessage
from shared.runs.model import FailureCode, RunOutcome, RunStatus
from tests.integration.conftest import LEASE, MAX_DELIVERIES, Harness, add_type

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjMifQ.c2lnbmF0dXJl"


def test_a_run_goes_from_queued_to_succeeded(harness: Harness) -> None:
    run, _ = harness.start(inputs={"items": 4, "label": "ok"})
    done = harness.deliver_next()
    assert done is not None and done.id == run.id
    assert (done.status, done.outcome) == (RunStatus.COMPLETED, RunOutcome.SUCCEEDED)
    assert done.summary_counts == {
        "total": 4,
        "processed": 4,
        "succeeded": 4,
        "failed": 0,
        "skipped": 0,
    }
    assert done.result == {"label": "ok", "items": 4}
    assert done.attempt == 1 and done.started_at and done.completed_at
    assert harness.lock_rows() == [] and harness.raw_messages() == []


def test_one_bad_item_gives_partial_success_and_all_bad_gives_failed(harness: Harness) -> None:
    harness.start(inputs={"items": 3, "fail_items": [1]})
    partial = harness.deliver_next()
    assert partial is not None and partial.outcome is RunOutcome.PARTIALLY_SUCCEEDED
    assert [(f.code, f.item) for f in partial.failures] == [("noop_item_failed", "item-1")]
    harness.start(inputs={"items": 2, "fail_items": [0, 1]})
    failed = harness.deliver_next()
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    assert failed.summary_counts["failed"] == 2


def test_duplicate_delivery_of_a_finished_run_is_dropped(harness: Harness) -> None:
    calls: list[int] = []
    add_type(harness.registry, "test.count", lambda ctx, inputs: calls.append(1))
    run, _ = harness.start(run_type="test.count")
    body = harness.receive().body
    assert harness.worker.process(body, 1) is not None
    finished = harness.service.get(harness.tenant_id, run.id)
    assert harness.worker.process(body, 1) is None  # the same message again
    assert harness.worker.process(body, 2) is None  # or redelivered
    assert calls == [1]
    assert harness.service.get(harness.tenant_id, run.id).etag == finished.etag


def test_a_second_message_for_a_run_in_progress_is_dropped(harness: Harness) -> None:
    seen: list[Any] = []

    def handler(ctx: RunContext, inputs: Any) -> None:
        body = RunMessage(run_id=ctx.run.id, tenant_id=ctx.tenant_id, type="test.dup")
        seen.append(harness.worker.process(body.model_dump_json(), 1))

    add_type(harness.registry, "test.dup", handler)
    harness.start(run_type="test.dup")
    done = harness.deliver_next()
    assert seen == [None] and done is not None and done.attempt == 1


def test_redelivery_after_a_crash_reclaims_with_the_next_attempt(harness: Harness) -> None:
    attempts: list[int] = []

    def handler(ctx: RunContext, inputs: Any) -> dict[str, int]:
        attempts.append(ctx.attempt)
        ctx.set_total(2)
        ctx.item_succeeded()
        ctx.flush()
        if ctx.attempt == 1:
            raise SystemExit("worker process died")  # not caught as an error: a crash
        ctx.item_succeeded()
        return {"attempt": ctx.attempt}

    add_type(harness.registry, "test.crash", handler)
    run, _ = harness.start(run_type="test.crash")
    first = harness.receive(visibility_timeout=1)
    with pytest.raises(SystemExit):
        harness.worker.process(first.body, first.dequeue_count)
    crashed = harness.service.get(harness.tenant_id, run.id)
    assert crashed.status is RunStatus.RUNNING and crashed.summary_counts["processed"] == 1
    # The message reappears after its visibility timeout, as after a host crash, while
    # the dead attempt's lease is still live: it is put back for when the lease ends.
    early = harness.wait_for_delivery()
    assert early.dequeue_count == 2
    assert harness.worker.process(early.body, early.dequeue_count) is None
    harness.queue.delete_message(early.id, early.pop_receipt)
    assert harness.queue.get_queue_properties().approximate_message_count == 1  # put back
    assert harness.service.get(harness.tenant_id, run.id).attempt == 1  # nobody took it
    harness.clock.advance(seconds=LEASE.total_seconds())  # the dead attempt's lease ends
    done = harness.worker.process(early.body, early.dequeue_count)
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert attempts == [1, 2] and done.attempt == 2 and done.result == {"attempt": 2}


def test_transient_errors_are_retried_until_the_last_delivery_fails_the_run(
    harness: Harness,
) -> None:
    def handler(ctx: RunContext, inputs: Any) -> None:
        ctx.set_total(1)
        raise TransientError("Graph answered 503 with Authorization: Bearer " + JWT)

    add_type(harness.registry, "test.flaky", handler)
    run, _ = harness.start(run_type="test.flaky")
    body = harness.receive().body
    for delivery in range(1, MAX_DELIVERIES):
        with pytest.raises(TransientError):
            harness.worker.process(body, delivery)
        current = harness.service.get(harness.tenant_id, run.id)
        assert current.status is RunStatus.RUNNING and current.attempt == delivery
    failed = harness.worker.process(body, MAX_DELIVERIES)
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    [failure] = failed.failures
    assert failure.code == FailureCode.RETRIES_EXHAUSTED and "eyJ" not in failure.message
    assert harness.lock_rows() == []


def test_any_other_error_fails_the_run_at_once_sanitized(harness: Harness) -> None:
    def handler(ctx: RunContext, inputs: Any) -> None:
        ctx.set_total(3)
        ctx.item_succeeded()
        raise RuntimeError(
            f"bad response\nTraceback (most recent call last):\n token={JWT} client_secret=abc"
        )

    add_type(harness.registry, "test.broken", handler)
    harness.start(run_type="test.broken")
    failed = harness.deliver_next()
    assert failed is not None and failed.outcome is RunOutcome.FAILED and failed.attempt == 1
    assert failed.summary_counts["processed"] == 1
    [failure] = failed.failures
    assert failure.code == FailureCode.UNHANDLED_ERROR
    assert failure.message == "RuntimeError: bad response [traceback removed]"
    [row] = harness.run_rows()
    assert JWT not in json.dumps(row, default=str) and "abc" not in row["Failures"]


def test_progress_is_visible_while_running_and_cancel_is_honoured(harness: Harness) -> None:
    observed: list[dict[str, int]] = []

    def handler(ctx: RunContext, inputs: Any) -> None:
        ctx.set_total(10)
        for index in range(10):
            ctx.check_cancelled()
            ctx.item_succeeded()
            observed.append(harness.service.get(ctx.tenant_id, ctx.run.id).summary_counts)
            if index == 2:
                harness.service.cancel(ctx.tenant_id, ctx.run.id)

    add_type(harness.registry, "test.long", handler)
    harness.start(run_type="test.long")
    done = harness.deliver_next()
    assert observed[0]["processed"] == 1 and observed[2]["processed"] == 3
    assert done is not None and done.outcome is RunOutcome.CANCELLED
    assert done.summary_counts["processed"] == 3 and harness.lock_rows() == []


def test_unreadable_messages_are_dropped_and_poison_fails_an_active_run(harness: Harness) -> None:
    assert harness.worker.process(b"not json", 1) is None
    assert harness.worker.process_poison("{}") is None
    harness.start(inputs={"items": 1})
    body = harness.receive().body
    poisoned = harness.worker.process_poison(body)
    assert poisoned is not None and poisoned.outcome is RunOutcome.FAILED
    assert poisoned.failures[-1].code == FailureCode.POISON and harness.lock_rows() == []
    again = harness.worker.process_poison(body)  # failing twice is harmless
    assert again is not None and again.etag == poisoned.etag


def test_an_oversized_result_fails_the_run_with_a_clear_code(harness: Harness) -> None:
    add_type(harness.registry, "test.huge", lambda ctx, inputs: {"blob": "x" * 70_000})
    harness.start(run_type="test.huge")
    failed = harness.deliver_next()
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    assert failed.failures[-1].code == "result_too_large"
    [row] = harness.run_rows()
    assert all(len(str(v)) < 32_000 for v in row.values())
