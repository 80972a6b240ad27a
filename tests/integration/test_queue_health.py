"""Queue health against Azurite: depth, oldest visible message age and poison count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.persistence.clients import StorageClients
from shared.telemetry import queues as queue_health

pytestmark = pytest.mark.azurite


def test_measure_depth_age_and_poison(storage: StorageClients, unique_name: str) -> None:
    work = storage.queue(unique_name)
    work.create_queue()
    poison = storage.queue(f"{unique_name}-poison")
    poison.create_queue()
    try:
        work.send_message('{"v":1}')
        work.send_message('{"v":1}')
        poison.send_message('{"v":1}')
        later = datetime.now(UTC) + timedelta(minutes=5)
        [health] = queue_health.measure(storage, [unique_name], clock=lambda: later)
        assert health.exists and health.depth == 2 and health.poison == 1
        assert 290 <= health.oldest_age_seconds <= 310
        # Peeking took nothing: both messages are still there.
        assert len(work.peek_messages(max_messages=32)) == 2
    finally:
        work.delete_queue()
        poison.delete_queue()


def test_missing_queues_are_reported_not_raised(storage: StorageClients, unique_name: str) -> None:
    [health] = queue_health.measure(storage, [unique_name])
    assert not health.exists
    empty = storage.queue(unique_name)
    empty.create_queue()
    try:
        [health] = queue_health.measure(storage, [unique_name])
        assert health.exists and health.depth == 0 and health.poison == 0
        assert health.oldest_age_seconds == 0.0
    finally:
        empty.delete_queue()


def test_record_sets_gauges(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, float, dict[str, Any]]] = []

    class Gauge:
        def __init__(self, name: str) -> None:
            self.name = name

        def set(self, value: float, attributes: dict[str, Any]) -> None:
            calls.append((self.name, value, attributes))

    for name in ("queue_depth", "queue_oldest_age", "poison_messages"):
        monkeypatch.setattr(queue_health, name, Gauge(name))
    queue_health.record(
        [
            queue_health.QueueHealth("operation-runs", 3, 12.0, 1),
            queue_health.QueueHealth("gone", 0, 0.0, None, exists=False),
        ]
    )
    attrs = {"queue.name": "operation-runs"}
    assert calls == [
        ("queue_depth", 3, attrs),
        ("queue_oldest_age", 12.0, attrs),
        ("poison_messages", 1, attrs),
    ]
