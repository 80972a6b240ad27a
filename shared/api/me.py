"""The caller's own things: in-app notifications and notification preferences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.parsing import parse_body, parse_query
from shared.api.present import ApiResponse
from shared.api.response_models import NotificationOut, NotificationPage, Preferences
from shared.auth.caller import Caller, CallerKind
from shared.errors import Forbidden
from shared.notifications.inbox import MAX_CURSOR_LENGTH, Inbox, Notification
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


def _notification(n: Notification) -> dict[str, object]:
    return {
        "id": n.id,
        "run_id": n.run_id,
        "tenant_id": n.tenant_id,
        "event": n.event,
        "outcome": n.outcome,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "created_at": n.created_at,
        "read_at": n.read_at,
        "delivery_problems": list(n.delivery_problems),
    }


def list_notifications(inbox: Inbox, caller: Caller, params: Mapping[str, str]) -> ApiResponse:
    query = parse_query(params, NotificationQuery)
    items, after = inbox.list(
        _person(caller), unread_only=query.unread == "true", limit=query.limit, after=query.cursor
    )
    page = {"items": [_notification(n) for n in items], "next_cursor": after}
    return ApiResponse(NotificationPage.model_validate(page))


def mark_read(inbox: Inbox, caller: Caller, notification_id: str | None) -> ApiResponse:
    read = inbox.mark_read(_person(caller), notification_id or "", datetime.now(UTC))
    return ApiResponse(NotificationOut.model_validate(_notification(read)))


def _preferences(prefs: PreferenceStore, user_id: str) -> Preferences:
    plan = prefs.effective(user_id)
    return Preferences.model_validate(
        {
            "queued": sorted(plan.queued),
            "completed": sorted(plan.completed),
            "customized": prefs.stored(user_id) is not None,
            "available": sorted(prefs.available),
        }
    )


def get_preferences(prefs: PreferenceStore, caller: Caller) -> ApiResponse:
    return ApiResponse(_preferences(prefs, _person(caller)))


def put_preferences(prefs: PreferenceStore, caller: Caller, body: bytes) -> ApiResponse:
    user_id = _person(caller)
    wanted = parse_body(body, PreferencesBody)
    prefs.save(user_id, ChannelPlan(frozenset(wanted.queued), frozenset(wanted.completed)))
    return ApiResponse(_preferences(prefs, user_id))
