"""The work queue: a small, versioned message that carries ids only."""

from __future__ import annotations

from typing import Literal, Protocol

from azure.storage.queue import QueueClient
from pydantic import BaseModel, ConfigDict


class RunMessage(BaseModel):
    """`{"v":1,"run_id","tenant_id","type"}`: the worker loads everything else from the row."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    run_id: str
    tenant_id: str
    type: str


class Dispatcher(Protocol):
    def send(self, message: RunMessage) -> None: ...


class QueueDispatcher:
    """Sends with the SDK, synchronously, so a failure is seen before the HTTP response."""

    def __init__(self, queue: QueueClient) -> None:
        self._queue = queue

    def send(self, message: RunMessage) -> None:
        self._queue.send_message(message.model_dump_json())
