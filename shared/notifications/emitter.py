"""The run outbox's sink: hands a committed notice to the `notifications` queue.

Never inline and never on a start's path: the run service commits the notice with the
run's transition and hands it on afterwards (the relay's batches, one message for the
notices of a short window, or the reaper's sweep); a notifier outage can never delay,
fail or change a run.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.notifications.message import NoticeBatch, NotificationEvent, NotificationMessage
from shared.runs.dispatch import MessageQueue
from shared.runs.model import Run
from shared.runs.relay import Notice


class QueueNotifications:
    def __init__(self, queue: MessageQueue) -> None:
        self._queue = queue

    def wants(self, run: Run) -> bool:
        return run.initiator.is_human  # app-only callers and timers have nobody to tell

    def send(self, tenant_id: str, run_id: str, event: str) -> None:
        self._queue.send_message(_message(Notice(tenant_id, run_id, event)).model_dump_json())

    def send_many(self, notices: Sequence[Notice]) -> None:
        """One queue write for them all (the relay's batch); one alone stays a plain message."""
        if len(notices) == 1:
            self.send(notices[0].tenant_id, notices[0].run_id, notices[0].event)
            return
        batch = NoticeBatch(notices=[_message(n) for n in notices])
        self._queue.send_message(batch.model_dump_json(exclude_none=True))


def _message(notice: Notice) -> NotificationMessage:
    return NotificationMessage(
        event=NotificationEvent(notice.event), run_id=notice.run_id, tenant_id=notice.tenant_id
    )
