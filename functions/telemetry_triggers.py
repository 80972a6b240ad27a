"""Timer: queue health (depth, oldest message age, poison count) as metrics and a log line."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition.services import services
from shared.config import NOTIFICATIONS_QUEUE, RUNS_QUEUE
from shared.telemetry.queues import measure, record

log = logging.getLogger(__name__)

bp = func.Blueprint()

WATCHED_QUEUES = (RUNS_QUEUE, NOTIFICATIONS_QUEUE)


@bp.function_name("queue_health")
@bp.timer_trigger(arg_name="timer", schedule="30 * * * * *", run_on_startup=False)
def queue_health(timer: func.TimerRequest) -> None:
    health = measure(services().storage, WATCHED_QUEUES)
    record(health)
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
