"""The caller's own things: in-app notifications and notification preferences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.parsing import parse_body, parse_query
from shared.api.present import ApiResponse
from shared.auth.caller import Caller, CallerKind
from shared.errors import Forbidden
from shared.notifications.inbox import MAX_CURSOR_LENGTH, Inbox
from shared.notifications.message import Channel
from shared.notifications.preferences import ChannelPlan, PreferenceStore


class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unread: Literal["true", "false"] = "false"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_LENGTH)


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queued: list[Channel] = Field(max_length=3)
    completed: list[Channel] = Field(max_length=3)


def _person(caller: Caller) -> str:
    # Only people have an inbox: app-only callers are never initiators of a notice.
    if caller.kind is not CallerKind.USER:
        raise Forbidden("an app-only caller has no notifications", code="user_required")
    return caller.oid


def list_notifications(inbox: Inbox, caller: Caller, params: Mapping[str, str]) -> ApiResponse:
    query = parse_query(params, NotificationQuery)
    items, after = inbox.list(
        _person(caller), unread_only=query.unread == "true", limit=query.limit, after=query.cursor
    )
    return ApiResponse({"items": [n.to_json() for n in items], "next_cursor": after})


def mark_read(inbox: Inbox, caller: Caller, notification_id: str | None) -> ApiResponse:
    read = inbox.mark_read(_person(caller), notification_id or "", datetime.now(UTC))
    return ApiResponse(read.to_json())


def preferences_json(prefs: PreferenceStore, user_id: str) -> dict[str, object]:
    return {
        **prefs.effective(user_id).to_json(),
        "customized": prefs.stored(user_id) is not None,
        "available": sorted(c.value for c in prefs.available),
    }


def get_preferences(prefs: PreferenceStore, caller: Caller) -> ApiResponse:
    return ApiResponse(preferences_json(prefs, _person(caller)))


def put_preferences(prefs: PreferenceStore, caller: Caller, body: bytes) -> ApiResponse:
    user_id = _person(caller)
    wanted = parse_body(body, PreferencesBody)
    prefs.save(user_id, ChannelPlan(frozenset(wanted.queued), frozenset(wanted.completed)))
    return ApiResponse(preferences_json(prefs, user_id))
