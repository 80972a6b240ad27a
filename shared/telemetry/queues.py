"""Queue health: depth, age of the oldest message and poison count, the rollout signals.

Measured by a timer (functions/telemetry_triggers.py) and recorded as gauges; the same
numbers go to the log so they are visible without metrics too. Depth is the service's
approximate count; the oldest message's age comes from peeking (which neither dequeues
nor changes visibility). A message that is invisible (being processed, or waiting for a
retry) is not seen by peek, so "oldest" means oldest *visible* message: a backlog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError
from opentelemetry import metrics

from shared.monitoring.queue_status import QueueStatus
from shared.persistence.clients import StorageClients
from shared.telemetry.spans import storage_span

meter = metrics.get_meter("intune_operation_runs")

queue_depth = meter.create_gauge(
    "queue.depth", unit="{message}", description="Approximate messages in the queue"
)
queue_oldest_age = meter.create_gauge(
    "queue.oldest_message_age", unit="s", description="Age of the oldest visible message"
)
poison_messages = meter.create_gauge(
    "queue.poison_messages", unit="{message}", description="Messages in the poison queue"
)


@dataclass(frozen=True)
class QueueHealth:
    queue: str
    depth: int
    oldest_age_seconds: float
    poison: int | None  # None: not a work queue with a poison queue of its own
    exists: bool = True


def _utcnow() -> datetime:
    return datetime.now(UTC)


def measure(
    storage: StorageClients,
    queues: Iterable[str],
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> list[QueueHealth]:
    result = []
    for name in queues:
        with storage_span("queue_health.measure", name):
            result.append(_measure_one(storage, name, clock))
    return result


def _measure_one(storage: StorageClients, name: str, clock: Callable[[], datetime]) -> QueueHealth:
    client = storage.queue(name)
    try:
        depth = int(client.get_queue_properties().approximate_message_count or 0)
    except ResourceNotFoundError:
        return QueueHealth(name, 0, 0.0, None, exists=False)
    age = 0.0
    if depth:
        for message in client.peek_messages(max_messages=1):
            if message.inserted_on is not None:
                age = max(0.0, (clock() - message.inserted_on).total_seconds())
    try:
        props = storage.queue(f"{name}-poison").get_queue_properties()
        poison = int(props.approximate_message_count or 0)
    except ResourceNotFoundError:
        poison = 0  # the host creates it on the first poison message
    return QueueHealth(name, depth, age, poison)


def record(health: Iterable[QueueHealth]) -> None:
    for item in health:
        if not item.exists:
            continue
        attributes = {"queue.name": item.queue}
        queue_depth.set(item.depth, attributes)
        queue_oldest_age.set(item.oldest_age_seconds, attributes)
        if item.poison is not None:
            poison_messages.set(item.poison, attributes)


def as_statuses(health: Iterable[QueueHealth], measured_at: datetime) -> list[QueueStatus]:
    """What the monitoring page keeps of a measurement (queues that exist only)."""
    return [
        QueueStatus(h.queue, h.depth, h.oldest_age_seconds, h.poison or 0, measured_at)
        for h in health
        if h.exists
    ]
