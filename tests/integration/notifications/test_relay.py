"""The outbox relay over Azurite: the notices of a window go out as one message, each is
told once, and a relay that cannot send leaves every notice to the sweep."""

from __future__ import annotations

import logging
import time

import pytest
from azure.storage.queue import QueueClient

from shared.notifications.emitter import QueueNotifications
from shared.notifications.message import NotificationEvent, parse_notification_body
from shared.runs.model import Run
from shared.runs.outbox import Outbox, OutboxEvent
from shared.runs.relay import NoticeRelay
from tests.integration.notifications.conftest import Notify

# Never reached by a test: each flushes its relay itself (a test of the thread excepted).
HELD = 3600.0


def _queued_runs(notify: Notify, count: int) -> list[Run]:
    """`count` runs by Alice, their queued notices committed and still in the outbox (the
    fixture's inline hand-off is taken off the queue unread, as if it had been lost)."""
    runs = [notify.harness.start(inputs={"items": i}, who=notify.alice)[0] for i in range(count)]
    for message in notify.queue.receive_messages(max_messages=32):
        notify.queue.delete_message(message)
    assert len(notify.harness.store.outbox(notify.harness.tenant_id)) == count
    return runs


def _relayed(notify: Notify, relay: NoticeRelay, runs: list[Run], queue: QueueClient) -> None:
    outbox = Outbox(notify.harness.store, QueueNotifications(queue), relay=relay)
    for run in runs:
        outbox.after_commit(run, OutboxEvent.QUEUED)


def _bodies(queue: QueueClient) -> list[str]:
    return [m.content for m in queue.peek_messages(max_messages=32)]


def test_the_notices_of_a_window_go_out_as_one_message_and_each_is_told_once(
    notify: Notify,
) -> None:
    runs = _queued_runs(notify, 3)
    relay = NoticeRelay(window=HELD)
    _relayed(notify, relay, runs, notify.queue)
    assert _bodies(notify.queue) == []  # held for the window
    assert relay.flush() == 3
    [body] = _bodies(notify.queue)
    assert [(n.run_id, n.event) for n in parse_notification_body(body)] == [
        (run.id, NotificationEvent.QUEUED) for run in runs
    ]
    [message] = notify.queue.receive_messages(max_messages=32)
    for _ in range(2):  # delivered twice: at least once is the queue's promise
        notify.worker.process(message.content)
    items, _ = notify.inbox.list(notify.alice.id, unread_only=False, limit=10)
    assert sorted(n.run_id for n in items) == sorted(run.id for run in runs)
    assert notify.harness.store.outbox(notify.harness.tenant_id) == []  # all handled


def test_a_batch_is_cut_at_the_relays_cap(notify: Notify) -> None:
    runs = _queued_runs(notify, 3)
    relay = NoticeRelay(window=HELD, max_batch=2)
    _relayed(notify, relay, runs, notify.queue)
    relay.flush()
    sizes = sorted(len(parse_notification_body(body)) for body in _bodies(notify.queue))
    assert sizes == [1, 2]
    assert notify.drain() == 2
    assert len(notify.inbox.list(notify.alice.id, unread_only=False, limit=10)[0]) == 3


def test_the_relays_thread_hands_notices_on_after_its_window(notify: Notify) -> None:
    runs = _queued_runs(notify, 2)
    _relayed(notify, NoticeRelay(window=0.05), runs, notify.queue)
    deadline = time.monotonic() + 10
    while not _bodies(notify.queue) and time.monotonic() < deadline:
        time.sleep(0.05)
    [body] = _bodies(notify.queue)
    assert {n.run_id for n in parse_notification_body(body)} == {run.id for run in runs}


def test_a_relay_that_cannot_send_leaves_every_notice_to_the_sweep(
    notify: Notify, caplog: pytest.LogCaptureFixture
) -> None:
    runs = _queued_runs(notify, 2)
    missing = notify.harness.storage.queue(notify.queue.queue_name + "gone")  # never created
    relay = NoticeRelay(window=HELD)
    _relayed(notify, relay, runs, missing)
    with caplog.at_level(logging.WARNING, logger="shared.runs.relay"):
        relay.flush()  # the send fails: logged, never raised at the caller
    assert "2 notices are left for the sweep" in caplog.text
    notify.harness.clock.advance(minutes=5)
    report = notify.harness.service.reap([notify.harness.tenant_id])
    assert report.notices_swept == 2
    assert notify.drain() == 2
    assert len(notify.inbox.list(notify.alice.id, unread_only=False, limit=10)[0]) == 2
