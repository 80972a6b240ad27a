"""The run outbox's sink: hands a committed notice to the `notifications` queue.

Never inline and never on a start's path: the run service commits the notice with the
run's transition and hands it on afterwards (in the background, or from the reaper's
sweep); a notifier outage can never delay, fail or change a run.
"""

from __future__ import annotations

from shared.notifications.message import NotificationEvent, NotificationMessage
from shared.runs.dispatch import MessageQueue
from shared.runs.model import Run


class QueueNotifications:
    def __init__(self, queue: MessageQueue) -> None:
        self._queue = queue

    def wants(self, run: Run) -> bool:
        return run.initiator.is_human  # app-only callers and timers have nobody to tell

    def send(self, tenant_id: str, run_id: str, event: str) -> None:
        message = NotificationMessage(
            event=NotificationEvent(event), run_id=run_id, tenant_id=tenant_id
        )
        self._queue.send_message(message.model_dump_json())
