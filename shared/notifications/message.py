"""The `notifications` queue message, events and channels."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
