"""The notifications queue: one event in, each configured channel delivered once."""

from __future__ import annotations

import azure.functions as func

from shared.composition.services import services
from shared.config import NOTIFICATIONS_QUEUE, STORAGE_CONNECTION

bp = func.Blueprint()


@bp.function_name("notification_worker")
@bp.queue_trigger(arg_name="msg", queue_name=NOTIFICATIONS_QUEUE, connection=STORAGE_CONNECTION)
def notification_worker(msg: func.QueueMessage) -> None:
    services().notifications.worker.process(msg.get_body())
