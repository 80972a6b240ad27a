"""The caller's in-app notifications and notification preferences."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api import me
from shared.api.present import ApiResponse
from shared.composition.reads import api_services
from shared.composition.services import services

bp = func.Blueprint()


@bp.function_name("api_my_notifications")
@bp.route(route="api/me/notifications", methods=["GET"])
@api_endpoint
def my_notifications(req: func.HttpRequest) -> ApiResponse:
    caller = api_services().access.caller(headers_of(req))
    return me.list_notifications(services().notifications.inbox, caller, req.params)


@bp.function_name("api_mark_notification_read")
@bp.route(route="api/me/notifications/{notification_id}/read", methods=["POST"])
@api_endpoint
def mark_notification_read(req: func.HttpRequest) -> ApiResponse:
    caller = api_services().access.caller(headers_of(req))
    return me.mark_read(
        services().notifications.inbox, caller, req.route_params.get("notification_id")
    )


@bp.function_name("api_my_notification_preferences")
@bp.route(route="api/me/notification-preferences", methods=["GET", "PUT"])
@api_endpoint
def my_notification_preferences(req: func.HttpRequest) -> ApiResponse:
    access = api_services().access
    caller = access.caller(headers_of(req))
    if req.method == "PUT":
        access.require_membership(caller)
        return me.put_preferences(services().notifications.preferences, caller, req.get_body())
    return me.get_preferences(services().notifications.preferences, caller)
