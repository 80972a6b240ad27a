"""RunEvents that put a message on the `notifications` queue, never sending anything inline.

A notifier outage can never delay, fail or change a run: the enqueue is best effort and
its failure is logged, not raised.
"""

from __future__ import annotations

import logging

from azure.storage.queue import QueueClient

from shared.notifications.message import NotificationEvent, NotificationMessage
from shared.runs.model import OperationRun

log = logging.getLogger(__name__)

QUEUED_NOTICE_DELAY_SECONDS = 2


class QueueNotifications:
    def __init__(
        self, queue: QueueClient, *, queued_delay: int = QUEUED_NOTICE_DELAY_SECONDS
    ) -> None:
        self._queue = queue
        self._queued_delay = queued_delay

    def run_queued(self, run: OperationRun) -> None:
        self._emit(run, NotificationEvent.QUEUED)

    def run_finished(self, run: OperationRun) -> None:
        self._emit(run, NotificationEvent.COMPLETED)

    def _emit(self, run: OperationRun, event: NotificationEvent) -> None:
        if not run.initiator.is_human:
            return  # app-only callers and timers have nobody to tell
        message = NotificationMessage(event=event, run_id=run.id, tenant_id=run.tenant_id)
        # The queued event is emitted while the work message is still being sent: hold it
        # back a moment so that, if that send fails, the run is marked failed before the
        # worker looks (and then drops the notice).
        delay = self._queued_delay if event is NotificationEvent.QUEUED else None
        try:
            self._queue.send_message(message.model_dump_json(), visibility_timeout=delay)
        except Exception:  # noqa: BLE001 - never let a notification affect the run
            log.warning("could not queue %s notification for run %s", event.value, run.id)
