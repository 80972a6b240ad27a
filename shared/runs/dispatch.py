"""The work queue: a small, versioned message that carries ids only."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


def new_token() -> str:
    """Names one send of a run's message; its duplicates (SDK retries) share it."""
    return secrets.token_hex(8)


class RunMessage(BaseModel):
    """`{"v":1,"run_id","tenant_id","type"}`: the worker loads everything else from the row.

    `token` names the send (a delivery with another token is a duplicate while the run
    is held); `deliveries` counts deliveries spent by earlier copies of this message that
    were re-scheduled (retry-after), so the delivery budget is one across copies.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    run_id: str
    tenant_id: str
    type: str
    token: str | None = None
    deliveries: int = Field(default=0, ge=0)

    def wire(self) -> str:
        """The queue text: optional fields only when set, so a first send stays small."""
        unset = {"deliveries"} if self.deliveries == 0 else set()
        return self.model_dump_json(exclude=unset, exclude_none=True)


class Dispatcher(Protocol):
    def send(self, message: RunMessage, *, delay: int | None = None) -> None: ...

    def backlog_age(self, now: datetime) -> timedelta | None:
        """How long the oldest visible message has waited (None: nothing waiting)."""


class MessageQueue(Protocol):
    """What we use of azure.storage.queue.QueueClient (and the in-memory queue)."""

    def send_message(self, content: str, *, visibility_timeout: int | None = None) -> Any: ...

    def peek_messages(self, max_messages: int = ...) -> Any: ...


class QueueDispatcher:
    """Sends with the SDK, synchronously, so a failure is seen before the HTTP response."""

    def __init__(self, queue: MessageQueue) -> None:
        self._queue = queue

    def send(self, message: RunMessage, *, delay: int | None = None) -> None:
        self._queue.send_message(message.wire(), visibility_timeout=delay)

    def backlog_age(self, now: datetime) -> timedelta | None:
        for front in self._queue.peek_messages(max_messages=1):
            inserted = getattr(front, "inserted_on", None)
            if isinstance(inserted, datetime):
                return max(timedelta(0), now - inserted)
        return None
