"""Deterministic interleavings on the in-memory store: one actor is paused between its
read and its write while another acts, then released. Each race of the issue, replayed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, cast

import pytest

from shared.persistence.memory_table import MemoryTable
from shared.run_types.diagnostics import NOOP
from shared.runs.context import RunContext, RunLost
from shared.runs.dispatch import RunMessage
from shared.runs.model import FailureCode, Run, RunOutcome, RunStatus
from shared.runs.run_type import RunType
from shared.runs.service import ClaimVerdict
from shared.runs.store import RunStore
from tests.faults.world import ALICE, LEASE, POLICY, REAPER_PERIOD, STALE_QUEUED, TENANT, World


class Pause:
    """Stops the actor thread before its first call that `matches`, until released."""

    def __init__(self, table: MemoryTable, matches: Callable[[str, tuple[Any, ...]], bool]) -> None:
        self._table = table
        self._matches = matches
        self.reached = threading.Event()
        self._go = threading.Event()
        self.actor: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        for op in ("submit_transaction", "update_entity", "delete_entity"):
            self._wrap(op)

    def _wrap(self, op: str) -> None:
        original = getattr(self._table, op)

        def gated(*args: Any, **kwargs: Any) -> Any:
            if (
                threading.current_thread() is self.actor
                and not self.reached.is_set()
                and self._matches(op, args)
            ):
                self.reached.set()
                self._go.wait(timeout=30)
            return original(*args, **kwargs)

        setattr(self._table, op, gated)

    def run(self, action: Callable[[], Any]) -> None:
        def body() -> None:
            try:
                self.result = action()
            except BaseException as error:
                self.error = error

        self.actor = threading.Thread(target=body)
        self.actor.start()
        assert self.reached.wait(timeout=30), "the actor never reached its write"

    def release(self) -> Any:
        self._go.set()
        assert self.actor is not None
        self.actor.join(timeout=30)
        if self.error is not None:
            raise self.error
        return self.result


def any_write(op: str, args: tuple[Any, ...]) -> bool:
    return True


def queued_run(world: World, inputs: dict[str, Any] | None = None) -> Run:
    run, created = world.service.ensure_run(TENANT, "sim.work", inputs or {"items": 1}, ALICE)
    assert created
    return world.service.dispatch_or_fail(run)


def test_cancel_that_read_queued_does_not_complete_a_run_a_worker_claimed_meanwhile() -> None:
    world = World()
    run = queued_run(world)
    pause = Pause(world.runs_table, any_write)
    pause.run(lambda: world.service.cancel(TENANT, run.id))  # read queued, about to end it
    claim = world.service.claim(TENANT, run.id, token=None)
    assert claim.verdict is ClaimVerdict.CLAIMED
    answered = pause.release()
    assert answered.status is RunStatus.RUNNING and answered.cancel_requested
    row = world.store.get(TENANT, run.id)
    assert row is not None and row.status is RunStatus.RUNNING and row.attempt == 1
    assert world.store.get_lock(TENANT, run.identity_hash) is not None  # still held


def test_reaper_that_read_a_stale_queued_run_leaves_it_when_a_worker_claimed_it() -> None:
    world = World()
    run = queued_run(world)
    world.now += STALE_QUEUED + timedelta(seconds=1)
    world.runs_queue.receive_messages()  # in flight: the queue is not backlogged
    pause = Pause(world.runs_table, any_write)
    pause.run(lambda: world.service.reap([TENANT]))
    assert world.service.claim(TENANT, run.id).verdict is ClaimVerdict.CLAIMED
    report = pause.release()
    assert report.stale_queued == [] and report.lease_expired == []
    row = world.store.get(TENANT, run.id)
    assert row is not None and row.status is RunStatus.RUNNING


def test_reaper_that_read_an_expired_lease_leaves_a_run_reclaimed_meanwhile() -> None:
    world = World()
    run = queued_run(world)
    world.service.claim(TENANT, run.id, token="first")
    world.now += LEASE + timedelta(seconds=1)
    pause = Pause(world.runs_table, lambda op, args: op == "submit_transaction")
    pause.run(lambda: world.service.reap([TENANT]))
    again = world.service.claim(TENANT, run.id, token="first")
    assert again.verdict is ClaimVerdict.CLAIMED and again.run and again.run.attempt == 2
    report = pause.release()
    assert report.lease_expired == []
    row = world.store.get(TENANT, run.id)
    assert row is not None and row.status is RunStatus.RUNNING and row.attempt == 2


@pytest.mark.parametrize(("token", "verdict"), [("t1", "wait"), ("t2", "drop")])
def test_two_deliveries_racing_for_one_run_make_one_executor(token: str, verdict: str) -> None:
    world = World()
    run = queued_run(world)
    pause = Pause(world.runs_table, any_write)
    pause.run(lambda: world.service.claim(TENANT, run.id, token=token))
    assert world.service.claim(TENANT, run.id, token="t1").verdict is ClaimVerdict.CLAIMED
    loser = pause.release()
    assert loser.verdict.value == verdict  # its own send's copy waits; another send drops
    row = world.store.get(TENANT, run.id)
    assert row is not None and row.attempt == 1


def test_a_duplicate_copy_never_takes_a_running_run_at_any_dequeue_count() -> None:
    """Issue point 2: the SDK re-sent a message that had gone out; the first delivery is
    still working when the copy arrives on its 2nd, 3rd... delivery."""
    world = World()
    inside = threading.Event()
    finish = threading.Event()
    executions: list[int] = []

    def slow(ctx: RunContext, inputs: Any) -> dict[str, Any]:
        executions.append(ctx.attempt)
        inside.set()
        finish.wait(timeout=30)
        return {}

    world.registry.register(RunType("sim.slow", "Slow", "sim", NOOP.input_model, slow))
    run, _ = world.service.ensure_run(TENANT, "sim.slow", {}, ALICE)
    world.service.dispatch_or_fail(run)
    [first] = world.runs_queue.receive_messages()
    copy = first.content  # the duplicate carries the same text, token included
    worker = threading.Thread(target=world.worker.process, args=(first.content, 1))
    worker.start()
    assert inside.wait(timeout=30)
    for dequeue_count in (1, 2, 3, 4):
        assert world.worker.process(copy, dequeue_count) is None
    finish.set()
    worker.join(timeout=30)
    assert executions == [1]
    done = world.store.get(TENANT, run.id)
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED and done.attempt == 1


def test_an_attempt_that_lost_the_run_may_not_prune_or_write() -> None:
    world = World()
    run = queued_run(world)
    first = world.service.claim(TENANT, run.id, token="a").run
    assert first is not None
    ctx = RunContext(
        first,
        save_progress=world.service.save_progress,
        min_interval=0,
        now=world.clock,
        check_owner=world.service.ensure_owned,
    )
    ctx.ensure_owned()  # still the owner
    world.now += LEASE + timedelta(seconds=1)
    assert world.service.claim(TENANT, run.id, token="a").verdict is ClaimVerdict.CLAIMED
    with pytest.raises(RunLost):
        ctx.ensure_owned()
    with pytest.raises(RunLost):
        ctx.check_cancelled()  # and it stays lost


def test_the_heartbeat_keeps_a_long_silent_step_from_being_reaped() -> None:
    world = World()
    world.worker._heartbeat_interval = 0.01
    survived: list[bool] = []

    def silent(ctx: RunContext, inputs: Any) -> dict[str, Any]:
        for _ in range(3):  # three times two-thirds of a lease: well past the first lease
            world.now += LEASE * 2 / 3
            _wait_for(lambda: _lease_of(world, ctx.run.id) == world.now + LEASE)
            world.service.reap([TENANT])
            row = world.store.get(TENANT, ctx.run.id)
            survived.append(row is not None and row.status is RunStatus.RUNNING)
        return {}

    world.registry.register(RunType("sim.silent", "Silent", "sim", NOOP.input_model, silent))
    run, _ = world.service.ensure_run(TENANT, "sim.silent", {}, ALICE)
    world.service.dispatch_or_fail(run)
    [message] = world.runs_queue.receive_messages()
    done = world.worker.process(message.content, 1)
    assert survived == [True, True, True]
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED and done.attempt == 1


def _lease_of(world: World, run_id: str) -> Any:
    row = world.store.get(TENANT, run_id)
    return row.lease_expires_at if row else None


def _wait_for(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(3000):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("the heartbeat never renewed the lease")


def test_retry_after_reschedules_the_message_and_counts_against_the_budget() -> None:
    world = World()
    run = queued_run(world, {"items": 1, "label": "throttled"})
    [message] = world.runs_queue.receive_messages()
    assert world.worker.process(message.content, 1) is None
    world.runs_queue.delete_message(message.id, message.pop_receipt)
    row = world.store.get(TENANT, run.id)
    assert row is not None and row.status is RunStatus.RUNNING
    assert row.lease_expires_at is not None and row.lease_expires_at <= world.now  # given back
    visible = world.runs_queue.next_visible()
    assert visible is not None
    assert world.now + timedelta(seconds=20) <= visible <= world.now + timedelta(seconds=25)
    [later] = world.runs_queue.receive_messages(visibility_timeout=30) or [None]
    assert later is None  # not before its time
    world.now = visible
    [later] = world.runs_queue.receive_messages()
    assert RunMessage.model_validate_json(later.content).deliveries == 1
    # The budget is one across copies: the last delivery fails the run instead of retrying.
    spent = RunMessage.model_validate_json(later.content).model_copy(update={"deliveries": 4})
    done = _always_throttled(world, spent)
    assert done is not None and done.failures[-1].code == FailureCode.RETRIES_EXHAUSTED


def _always_throttled(world: World, message: RunMessage) -> Run | None:
    from shared.errors import TransientError

    def throttled(ctx: RunContext, inputs: Any) -> None:
        raise TransientError("429", retry_after=20)

    world.registry.register(RunType("sim.throttled", "T", "sim", NOOP.input_model, throttled))
    run, _ = world.service.ensure_run(TENANT, "sim.throttled", {}, ALICE)
    return world.worker.process(
        message.model_copy(update={"run_id": run.id, "type": "sim.throttled"}).wire(), 1
    )


def test_a_start_never_waits_on_a_notification_send() -> None:
    from shared.runs.outbox import Outbox
    from shared.runs.relay import Notice, NoticeRelay

    world = World()
    blocked = threading.Event()
    release = threading.Event()

    class StuckSink:
        def wants(self, run: Run) -> bool:
            return True

        def send(self, tenant_id: str, run_id: str, event: str) -> None:
            raise AssertionError("the relay hands notices on in batches")

        def send_many(self, notices: Sequence[Notice]) -> None:
            blocked.set()
            release.wait(timeout=30)

    # A relay of its own: the process's relay is shared with every other test.
    world.service._outbox = Outbox(world.store, StuckSink(), relay=NoticeRelay(window=0.01))
    run = queued_run(world)  # returns although the notice is stuck
    assert blocked.wait(timeout=30)
    assert [r.event for r in world.store.outbox(TENANT, run.id)] == ["queued"]
    release.set()


def test_a_lost_send_is_resent_by_a_deduplicated_start_after_the_window_once() -> None:
    world = World()
    world.start_and_die(ALICE, {"items": 1}, retry=False)
    again, created = world.service.ensure_run(TENANT, "sim.work", {"items": 1}, ALICE)
    assert not created and world.runs_queue.pending() == 0  # within the window: no re-send
    world.now += POLICY.redispatch_after + timedelta(seconds=1)
    for _ in range(3):
        world.service.ensure_run(TENANT, "sim.work", {"items": 1}, ALICE)
    assert world.runs_queue.pending() == 1  # one re-send, not one per retry
    row = world.store.get(TENANT, again.id)
    assert row is not None and row.dispatch_count == 2


def test_the_reaper_resends_a_bounded_number_of_times_then_fails_dispatch_lost() -> None:
    world = World()
    world.start_and_die(ALICE, {"items": 1}, retry=False)
    for _ in range(POLICY.max_redispatches):
        world.now += REAPER_PERIOD
        report = world.service.reap([TENANT])
        assert len(report.redispatched) == 1
        for lost in world.runs_queue.receive_messages():  # the re-sent message is lost too
            world.runs_queue.delete_message(lost.id, lost.pop_receipt)
    world.now += REAPER_PERIOD
    report = world.service.reap([TENANT])
    [run] = world.runs()
    assert report.dispatch_lost == [run.id]
    assert run.failures[-1].code == FailureCode.DISPATCH_LOST


def test_a_backlogged_queue_is_not_mistaken_for_lost_messages() -> None:
    world = World()
    queued_run(world)  # its message waits at the front of the queue
    world.now += REAPER_PERIOD
    report = world.service.reap([TENANT])
    assert report.redispatched == [] and report.dispatch_lost == []
    assert world.runs_queue.pending() == 1


def test_one_broken_tenant_does_not_stop_the_sweep_and_every_tenant_with_runs_is_walked() -> None:
    world = World()
    other = "5d1c3a9e-2222-4c2d-9e8f-000000000022"  # no Tenants row, members only
    world.service.ensure_run(TENANT, "sim.work", {"items": 1}, ALICE)
    run, _ = world.service.ensure_run(other, "sim.work", {"items": 1}, ALICE)
    world.runs_table.upsert_entity(
        {"PartitionKey": TENANT, "RowKey": "active~broken", "Kind": "lock"}  # no RunId
    )
    world.now += STALE_QUEUED + timedelta(seconds=1)
    walked = world.service.tenants_with_runs([])
    assert set(walked) == {TENANT, other}
    report = world.service.reap(walked)
    assert report.tenant_errors == 1 and report.stale_queued == [run.id]


def test_the_store_works_on_a_plain_memory_table() -> None:
    store = RunStore(cast(Any, MemoryTable()))
    assert list(store.tenants_with_runs()) == []
