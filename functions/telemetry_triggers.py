"""Timer: queue health (depth, oldest message age, poison count) as metrics, a log line and
a table row for the monitoring page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.functions as func

from shared.composition.services import services
from shared.config import NOTIFICATIONS_QUEUE, QUEUE_HEALTH_TABLE, RUNS_QUEUE
from shared.monitoring.queue_status import QueueStatusStore
from shared.telemetry.queues import as_statuses, measure, record

log = logging.getLogger(__name__)

bp = func.Blueprint()

WATCHED_QUEUES = (RUNS_QUEUE, NOTIFICATIONS_QUEUE)


@bp.function_name("queue_health")
@bp.timer_trigger(arg_name="timer", schedule="30 * * * * *", run_on_startup=False)
def queue_health(timer: func.TimerRequest) -> None:
    storage = services().storage
    health = measure(storage, WATCHED_QUEUES)
    record(health)
    # The monitoring page's "queue is behind" banner reads this row, never the queue.
    QueueStatusStore(storage.table(QUEUE_HEALTH_TABLE)).save(as_statuses(health, datetime.now(UTC)))
    for item in health:
        log.info(
            "queue health: %s depth=%d oldest_age_s=%.0f poison=%s",
            item.queue,
            item.depth,
            item.oldest_age_seconds,
            item.poison,
            extra={
                "queue_name": item.queue,
                "queue_depth": item.depth,
                "queue_oldest_age_seconds": item.oldest_age_seconds,
                "queue_poison": item.poison,
            },
        )
