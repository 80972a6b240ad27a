"""Queue triggers against Azurite, with the Functions host's semantics."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from devhost.queue_listener import Backoff
from tests.devhost.conftest import HostFactory, wait_for
from tests.devhost.sample_app import Recorder

pytestmark = pytest.mark.azurite

RawQueue = Callable[[str], QueueClient]


def order(**fields: Any) -> str:
    return json.dumps(fields)


def queue_calls(recorder: Recorder) -> list[dict[str, Any]]:
    return [call.data for call in recorder.of("queue_worker")]


def peek_all(client: QueueClient) -> list[str]:
    try:
        return [m.content for m in client.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def test_base64_message_reaches_function_and_is_deleted(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host()
    queue_client.send_message(order(tag="b64"))  # base64 on the wire
    host.wait_until_drained()
    [call] = queue_calls(recorder)
    assert call["body"] == order(tag="b64").encode()
    assert call["dequeue_count"] == 1
    assert call["type"] == "QueueMessage"
    assert call["id"] and call["pop_receipt"]
    assert queue_client.get_queue_properties().approximate_message_count == 0


def test_none_encoding_passes_wire_text(
    make_host: HostFactory, unique_name: str, raw_queue: RawQueue, recorder: Recorder
) -> None:
    host = make_host(queues={"messageEncoding": "none"})
    raw_queue(unique_name).send_message("plain text, not base64 \u00e9")
    host.wait_until_drained()
    [call] = queue_calls(recorder)
    assert call["body"] == "plain text, not base64 \u00e9".encode()


def test_invalid_base64_goes_to_poison_without_running(
    make_host: HostFactory, unique_name: str, raw_queue: RawQueue, recorder: Recorder
) -> None:
    host = make_host()
    raw_queue(unique_name).send_message("not base64 !!")
    host.wait_until_drained()
    assert queue_calls(recorder) == []
    assert peek_all(raw_queue(f"{unique_name}-poison")) == ["not base64 !!"]


def test_queue_is_created_when_missing(make_host: HostFactory, queue_client: QueueClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        queue_client.get_queue_properties()
    make_host()
    assert queue_client.get_queue_properties().approximate_message_count == 0


def test_dequeue_count_increments_until_success(
    make_host: HostFactory, queue_client: QueueClient, raw_queue: RawQueue, recorder: Recorder
) -> None:
    host = make_host(queues={"maxDequeueCount": 5})
    queue_client.send_message(order(tag="retry", fail_until=2))
    host.wait_until_drained()
    calls = queue_calls(recorder)
    assert [c["dequeue_count"] for c in calls] == [1, 2, 3]
    assert [call.outcome for call in recorder.of("queue_worker")] == ["failed", "failed", "ok"]
    assert len({c["id"] for c in calls}) == 1
    assert peek_all(raw_queue(f"{queue_client.queue_name}-poison")) == []


def test_visibility_timeout_delays_the_retry(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host(queues={"visibilityTimeout": "00:00:02"})
    queue_client.send_message(order(tag="later", fail_until=1))
    wait_for(lambda: len(recorder.of("queue_worker")) == 1, what="first delivery")
    # Hidden after the failure: another reader finds nothing for now.
    assert list(queue_client.receive_messages(max_messages=1, visibility_timeout=1)) == []
    host.wait_until_drained()
    first, second = recorder.of("queue_worker")
    assert (first.outcome, second.outcome) == ("failed", "ok")
    assert first.ended is not None
    # Storage times are whole seconds, so allow for rounding below the 2 s setting.
    assert second.started - first.ended >= 1.0


def test_max_dequeue_count_then_poison_queue(
    make_host: HostFactory, queue_client: QueueClient, raw_queue: RawQueue, recorder: Recorder
) -> None:
    host = make_host(queues={"maxDequeueCount": 3})
    queue_client.send_message(order(tag="doomed", always_fail=True))
    host.wait_until_drained()
    assert [c["dequeue_count"] for c in queue_calls(recorder)] == [1, 2, 3]
    poison = peek_all(raw_queue(f"{queue_client.queue_name}-poison"))
    # The poison message is the original wire text (still base64).
    assert [base64.b64decode(text) for text in poison] == [
        order(tag="doomed", always_fail=True).encode()
    ]
    assert queue_client.get_queue_properties().approximate_message_count == 0


def test_message_dequeued_too_often_elsewhere_is_poisoned_without_running(
    make_host: HostFactory, queue_client: QueueClient, raw_queue: RawQueue, recorder: Recorder
) -> None:
    queue_client.create_queue()
    queue_client.send_message(order(tag="crashed"))
    for _ in range(2):  # two deliveries that never settled (e.g. crashed hosts)
        [message] = list(queue_client.receive_messages(max_messages=1, visibility_timeout=1))
        queue_client.update_message(message.id, message.pop_receipt, visibility_timeout=0)
    host = make_host(queues={"maxDequeueCount": 2})
    host.wait_until_drained()
    assert queue_calls(recorder) == []
    assert len(peek_all(raw_queue(f"{queue_client.queue_name}-poison"))) == 1


def test_concurrency_never_exceeds_batch_size_plus_threshold(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host(queues={"batchSize": 2, "newBatchThreshold": 1})
    for index in range(10):
        queue_client.send_message(order(tag=f"m{index}", sleep=0.25))
    host.wait_until_drained()
    tags = [c["tag"] for c in queue_calls(recorder)]
    assert sorted(tags) == sorted(f"m{i}" for i in range(10))
    assert 2 <= recorder.peak <= 3


def test_batch_size_one_serialises(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host(queues={"batchSize": 1, "newBatchThreshold": 0})
    for index in range(4):
        queue_client.send_message(order(tag=f"s{index}", sleep=0.1))
    host.wait_until_drained()
    assert len(queue_calls(recorder)) == 4
    assert recorder.peak == 1


def test_lease_is_renewed_while_a_function_runs_long(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    # A 2 s lease and a 3 s function: without renewal the message would reappear.
    host = make_host(message_lease=2)
    queue_client.send_message(order(tag="long", sleep=3.0))
    wait_for(lambda: len(recorder.of("queue_worker")) == 1, what="delivery")
    call = recorder.of("queue_worker")[0]
    while call.ended is None:
        stolen = list(queue_client.receive_messages(max_messages=1, visibility_timeout=1))
        assert stolen == [], "the message became visible while its function ran"
        time.sleep(0.25)
    host.wait_until_drained()
    assert [c["dequeue_count"] for c in queue_calls(recorder)] == [1]
    assert call.outcome == "ok"


def test_two_hosts_share_a_queue_and_process_each_message_once(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    first = make_host(queues={"batchSize": 4, "newBatchThreshold": 2})
    second = make_host(queues={"batchSize": 4, "newBatchThreshold": 2})
    expected = [f"shared{i}" for i in range(30)]
    for tag in expected:
        queue_client.send_message(order(tag=tag, sleep=0.05))
    first.wait_until_drained()
    second.wait_until_drained()
    tags = [c["tag"] for c in queue_calls(recorder)]
    assert sorted(tags) == sorted(expected)  # each exactly once
    assert first.listeners[0].processed + second.listeners[0].processed == len(expected)


def test_no_workers_serves_http_only(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host(workers=False, values={"SAMPLE_TIMER_SCHEDULE": "* * * * * *"})
    queue_client.create_queue()
    queue_client.send_message(order(tag="ignored"))
    time.sleep(1.5)  # long enough for a poll and a timer tick, were they running
    assert host.listeners == [] and host.timers == []
    assert recorder.calls == []
    assert queue_client.get_queue_properties().approximate_message_count == 1


def test_backoff_grows_to_the_maximum_and_resets() -> None:
    backoff = Backoff(0.1, 1.0)
    delays = [backoff.next() for _ in range(8)]
    assert delays[0] <= 0.12
    assert all(0.08 <= d <= 1.0 for d in delays)
    assert delays[-1] >= 0.8
    backoff.reset()
    assert backoff.next() <= 0.12
