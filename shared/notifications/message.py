"""The `notifications` queue message, events and channels."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# The relay's cap (shared.runs.relay.MAX_NOTICES_PER_MESSAGE) is what is sent; this is what
# is accepted.
MAX_NOTICES_PER_BATCH = 100


class NotificationEvent(StrEnum):
    QUEUED = "queued"
    """A new run was created and its work message sent."""
    COMPLETED = "completed"
    """A run reached a terminal outcome."""


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    TEAMS = "teams"


class NotificationMessage(BaseModel):
    """Ids only. `channel` and `attempt` are set on a retry of one external channel."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    event: NotificationEvent
    run_id: str
    tenant_id: str
    channel: Channel | None = None
    attempt: int = Field(default=1, ge=1)


class NoticeBatch(BaseModel):
    """First hand-offs of several notices in one message (the outbox relay's batches).
    Each is handled as if it had come alone; a retry of one channel is always alone."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    notices: list[NotificationMessage] = Field(min_length=1, max_length=MAX_NOTICES_PER_BATCH)


_WIRE: TypeAdapter[NoticeBatch | NotificationMessage] = TypeAdapter(
    NoticeBatch | NotificationMessage
)


def parse_notification_body(body: str | bytes) -> list[NotificationMessage]:
    """The notices one queue message carries, one or a batch; ValidationError if neither."""
    parsed = _WIRE.validate_json(body)
    return list(parsed.notices) if isinstance(parsed, NoticeBatch) else [parsed]
