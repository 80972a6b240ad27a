"""The caller's in-app notifications and notification preferences. Paths, methods and auth
rules are in the route table (shared.api.routes.ROUTES): only some tenant's member
may write preferences, so a token holder of no tenant cannot write rows."""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api import me
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.composition.services import services

bp = func.Blueprint()


@route(bp, "listMyNotifications")
def my_notifications(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return me.list_notifications(services().notifications.inbox, who.user, req.params)


@route(bp, "markNotificationRead")
def mark_notification_read(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return me.mark_read(
        services().notifications.inbox, who.user, req.route_params.get("notification_id")
    )


@route(bp, "getMyNotificationPreferences", "putMyNotificationPreferences")
def my_notification_preferences(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    preferences = services().notifications.preferences
    if req.method.upper() == "PUT":
        return me.put_preferences(preferences, who.user, req.get_body())
    return me.get_preferences(preferences, who.user)
