"""An in-memory Storage queue on a clock the test moves, for race and fault tests.

The subset of `azure.storage.queue.QueueClient` our code calls, with the service's
semantics: a received message is invisible for its visibility timeout and counts a
dequeue; only the holder of the latest pop receipt may delete or update it; a send may
be delayed by a visibility timeout. Delivery is at least once, never exactly once.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError


@dataclass
class MemoryMessage:
    id: str
    content: str
    dequeue_count: int
    pop_receipt: str | None
    next_visible_on: datetime
    inserted_on: datetime


class MemoryQueue:
    def __init__(self, clock: Callable[[], datetime], queue_name: str = "memory") -> None:
        self.queue_name = queue_name
        self._clock = clock
        self._messages: dict[str, MemoryMessage] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()
        self.sent = 0

    def send_message(
        self, content: str, *, visibility_timeout: int | None = None, **_: Any
    ) -> MemoryMessage:
        with self._lock:
            message = MemoryMessage(
                id=f"{next(self._order):08d}-{uuid.uuid4().hex[:8]}",
                content=content,
                dequeue_count=0,
                pop_receipt=None,
                next_visible_on=self._clock() + timedelta(seconds=visibility_timeout or 0),
                inserted_on=self._clock(),
            )
            self._messages[message.id] = message
            self.sent += 1
            return message

    def receive_messages(
        self, *, visibility_timeout: int = 30, max_messages: int | None = None, **_: Any
    ) -> list[MemoryMessage]:
        now = self._clock()
        with self._lock:
            visible = [m for m in self._messages.values() if m.next_visible_on <= now]
            visible.sort(key=lambda m: (m.next_visible_on, m.id))
            taken = []
            for message in visible[: max_messages or 32]:
                message.dequeue_count += 1
                message.pop_receipt = uuid.uuid4().hex
                message.next_visible_on = now + timedelta(seconds=visibility_timeout)
                taken.append(
                    MemoryMessage(
                        message.id,
                        message.content,
                        message.dequeue_count,
                        message.pop_receipt,
                        message.next_visible_on,
                        message.inserted_on,
                    )
                )
            return taken

    def delete_message(self, message: str | MemoryMessage, pop_receipt: str | None = None) -> None:
        message_id = message if isinstance(message, str) else message.id
        receipt = pop_receipt if pop_receipt is not None else getattr(message, "pop_receipt", None)
        with self._lock:
            current = self._messages.get(message_id)
            if current is None or current.pop_receipt != receipt:
                raise ResourceNotFoundError("the message or its pop receipt is gone")
            del self._messages[message_id]

    def update_message(
        self,
        message: str | MemoryMessage,
        pop_receipt: str | None = None,
        *,
        visibility_timeout: int = 0,
        **_: Any,
    ) -> MemoryMessage:
        message_id = message if isinstance(message, str) else message.id
        with self._lock:
            current = self._messages.get(message_id)
            if current is None or current.pop_receipt != pop_receipt:
                raise ResourceNotFoundError("the message or its pop receipt is gone")
            current.pop_receipt = uuid.uuid4().hex
            current.next_visible_on = self._clock() + timedelta(seconds=visibility_timeout)
            return current

    def peek_messages(self, max_messages: int = 32, **_: Any) -> list[MemoryMessage]:
        now = self._clock()
        with self._lock:
            visible = [m for m in self._messages.values() if m.next_visible_on <= now]
            return sorted(visible, key=lambda m: (m.next_visible_on, m.id))[:max_messages]

    def inner_messages(self) -> list[MemoryMessage]:
        """Every message, visible or not (tests look at what was scheduled)."""
        with self._lock:
            return list(self._messages.values())

    def pending(self) -> int:
        """Messages left, visible or not (a test's "is everything delivered")."""
        with self._lock:
            return len(self._messages)

    def next_visible(self) -> datetime | None:
        with self._lock:
            return min((m.next_visible_on for m in self._messages.values()), default=None)
