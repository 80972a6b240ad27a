"""The route table of the HTTP surface: each route declared once, in ROUTES.

A route is its method, path, the Functions function that serves it, its auth rule, its
query and body models (shared.api.request_models, shared.api.me), and its replies with
their response models (shared.api.response_models). functions/_routes.py registers the
HTTP triggers from this table and runs the auth rule; shared.api.openapi builds the
OpenAPI document from it. tests/unit/api holds both against the functions function_app
registers, and tests/e2e runs schemathesis against the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from shared.api import response_models
from shared.api.me import NotificationQuery, PreferencesBody
from shared.api.parsing import MAX_BODY_BYTES
from shared.api.request_models import GroupMappingQuery, GroupSearchQuery, ListQuery, StartRequest

Method = Literal["get", "post", "put"]
# Who may call a route: anyone; any authenticated caller; a member of the tenant the path
# names (or, on a path without one, of some tenant); a member whose role may write.
Auth = Literal["anonymous", "caller", "member", "writer"]


@dataclass(frozen=True)
class Reply:
    description: str
    model: type[BaseModel] | None = None  # None: the error body
    headers: tuple[str, ...] = ()
    any_of: tuple[type[BaseModel], ...] = ()  # alternatives to `model`


@dataclass(frozen=True)
class Route:
    method: Method
    path: str
    operation_id: str
    summary: str
    tag: str
    replies: dict[int, Reply]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    auth: Auth = "caller"
    description: str = ""
    path_params: tuple[str, ...] = field(default=())
    function: str = ""  # the Functions function name; routes sharing a path share one

    @property
    def secured(self) -> bool:
        return self.auth != "anonymous"

    @property
    def route(self) -> str:
        """The path as a Functions route template (no leading slash)."""
        return self.path.removeprefix("/")


# Reused replies. Every status a route can answer on purpose is listed on that route.
UNAUTHENTICATED = Reply("No bearer token, or one that failed validation (`unauthenticated`)")
NO_TENANT = Reply(
    "No such tenant for this caller: not a member, or the id is not a GUID (`not_found`)"
)
READONLY = Reply("A readonly member cannot do this (`forbidden`)")
USER_ONLY = Reply("An app-only caller has no notifications (`user_required`)")
UNAVAILABLE = Reply("Storage did not answer; retry later (`storage_unavailable`)", None)
INVALID_QUERY = Reply("The query string violates the schema; `details` names the fields")
BAD_CURSOR = Reply("The cursor is not one this API issued (`invalid_cursor`)")
CROSS_SITE = "A browser request from another site (`cross_site`)"
NOT_JSON = Reply("The body is not `application/json` (`unsupported_media_type`)")

ROUTES: tuple[Route, ...] = (
    Route(
        "get",
        "/api/health",
        "health",
        "Liveness (anonymous; touches no storage)",
        "meta",
        {200: Reply("Alive", response_models.Health)},
        auth="anonymous",
        function="api_health",
    ),
    Route(
        "get",
        "/api/openapi.json",
        "openapi",
        "This document (anonymous)",
        "meta",
        {200: Reply("The OpenAPI document")},
        auth="anonymous",
        function="api_openapi",
    ),
    Route(
        "get",
        "/api/tenants",
        "listTenants",
        "The tenants the caller may see, with their role",
        "tenants",
        {200: Reply("The caller's tenants", response_models.TenantList), 401: UNAUTHENTICATED},
        function="api_list_tenants",
    ),
    Route(
        "get",
        "/api/operation-types",
        "listRunTypes",
        "The run-type catalogue: type, title, description, JSON Schema of the inputs",
        "operations",
        {200: Reply("The catalogue", response_models.Catalogue), 401: UNAUTHENTICATED},
        function="api_run_types",
    ),
    Route(
        "post",
        "/api/tenants/{tenant_id}/operations",
        "startRun",
        "Start a run (or get the active identical one)",
        "operations",
        {
            202: Reply(
                "A new run, queued", response_models.StartResult, ("Location", "Retry-After")
            ),
            200: Reply("An active identical run (deduplicated)", response_models.StartResult),
            400: Reply("The body is not JSON (`invalid_json`)"),
            401: UNAUTHENTICATED,
            403: READONLY,
            404: NO_TENANT,
            409: Reply("Concurrent writers kept winning (`concurrent_update`); retry"),
            413: Reply(f"The body is over {MAX_BODY_BYTES} bytes (`payload_too_large`)"),
            422: Reply(
                "Unknown run type (`unknown_run_type`) or inputs that violate its schema "
                "(`invalid_inputs`); `details` names the fields"
            ),
            503: Reply(
                "The run was created but could not be queued (`dispatch_failed`, with the "
                "failed run), or storage did not answer",
                response_models.DispatchFailedBody,
                ("Retry-After",),
                any_of=(response_models.ErrorBody,),
            ),
        },
        body=StartRequest,
        path_params=("tenant_id",),
        description="Idempotent for identical active runs: the same type and inputs while a "
        "run is queued or running answer 200 with that run.",
        function="api_start_run",
        auth="writer",
    ),
    Route(
        "get",
        "/api/tenants/{tenant_id}/operations",
        "listRuns",
        "The tenant's runs, newest first, as summaries",
        "operations",
        {
            200: Reply("A page of run summaries", response_models.RunPage),
            400: BAD_CURSOR,
            401: UNAUTHENTICATED,
            404: NO_TENANT,
            422: INVALID_QUERY,
        },
        query=ListQuery,
        path_params=("tenant_id",),
        function="api_list_runs",
        auth="member",
    ),
    Route(
        "get",
        "/api/overview",
        "getOverview",
        "All the caller's tenants at a glance, the ones needing attention first",
        "monitoring",
        {
            200: Reply("One row per tenant the caller may see", response_models.Overview),
            401: UNAUTHENTICATED,
        },
        description="Storage only. Per tenant: active runs, failures in 24 h, the last success "
        "of each run type within 7 days and what needs attention (failures, runs queued too "
        "long, a run type overdue). Read from per-tenant summary rows kept current by run "
        "events, a 5-minute sweep and the read itself (a row older than 15 minutes is "
        "recomputed); `as_of` says up to when runs are counted.",
        function="api_overview",
    ),
    Route(
        "get",
        "/api/tenants/{tenant_id}/glance",
        "getTenantGlance",
        "A tenant at a glance: counts now, 24 h and 7 days, 14 days by outcome, durations",
        "monitoring",
        {
            200: Reply("The tenant's glance", response_models.TenantGlance),
            401: UNAUTHENTICATED,
            404: NO_TENANT,
        },
        path_params=("tenant_id",),
        function="api_tenant_glance",
        auth="member",
    ),
    Route(
        "get",
        "/api/tenants/{tenant_id}/operations/{run_id}",
        "getRun",
        "One run",
        "operations",
        {
            200: Reply("The run", response_models.RunDetail),
            401: UNAUTHENTICATED,
            404: Reply("No such run in this tenant, or no such tenant (`not_found`)"),
        },
        path_params=("tenant_id", "run_id"),
        function="api_get_run",
        auth="member",
    ),
    Route(
        "post",
        "/api/tenants/{tenant_id}/operations/{run_id}/cancel",
        "cancelRun",
        "Cancel a run: queued ends cancelled now, running is asked to stop",
        "operations",
        {
            200: Reply("The run after the cancel", response_models.CancelResult),
            401: UNAUTHENTICATED,
            403: READONLY,
            404: Reply("No such run in this tenant, or no such tenant (`not_found`)"),
            409: Reply("The run has completed (`invalid_transition`)"),
        },
        path_params=("tenant_id", "run_id"),
        function="api_cancel_run",
        auth="writer",
    ),
    Route(
        "get",
        "/api/tenants/{tenant_id}/directory/groups",
        "searchGroups",
        "Search the tenant's groups on behalf of the caller (delegated Graph)",
        "directory",
        {
            200: Reply("Matching groups", response_models.GroupSearchResult),
            401: UNAUTHENTICATED,
            403: Reply(
                "No delegated user token to act on behalf of (`delegated_token_required`), "
                "or Graph refused the search"
            ),
            404: NO_TENANT,
            422: INVALID_QUERY,
            502: Reply("Graph answered with an error"),
            503: Reply("Graph is unavailable or throttling; retry later", None, ("Retry-After",)),
        },
        query=GroupSearchQuery,
        path_params=("tenant_id",),
        function="api_search_groups",
        auth="member",
    ),
    Route(
        "get",
        "/api/tenants/{tenant_id}/restore/group-mapping",
        "restoreGroupMapping",
        "Source groups of a backup with candidate target groups (cache only, never Graph)",
        "restore",
        {
            200: Reply("The mapping", response_models.GroupMapping),
            401: UNAUTHENTICATED,
            404: Reply("No such backup set in this tenant, or no such tenant (`not_found`)"),
            409: Reply("The backup set is still being captured (`backup_incomplete`)"),
            422: INVALID_QUERY,
        },
        query=GroupMappingQuery,
        path_params=("tenant_id",),
        function="api_restore_group_mapping",
        auth="member",
    ),
    Route(
        "get",
        "/api/me/notifications",
        "listMyNotifications",
        "The caller's in-app notifications, newest first",
        "me",
        {
            200: Reply("A page of notifications", response_models.NotificationPage),
            400: BAD_CURSOR,
            401: UNAUTHENTICATED,
            403: USER_ONLY,
            422: INVALID_QUERY,
        },
        query=NotificationQuery,
        function="api_my_notifications",
    ),
    Route(
        "post",
        "/api/me/notifications/{notification_id}/read",
        "markNotificationRead",
        "Mark one of the caller's notifications read",
        "me",
        {
            200: Reply("The notification, read", response_models.NotificationOut),
            401: UNAUTHENTICATED,
            403: USER_ONLY,
            404: Reply("No such notification (`not_found`)"),
        },
        path_params=("notification_id",),
        function="api_mark_notification_read",
    ),
    Route(
        "get",
        "/api/me/notification-preferences",
        "getMyNotificationPreferences",
        "The caller's notification channels per event",
        "me",
        {
            200: Reply("The effective preferences", response_models.Preferences),
            401: UNAUTHENTICATED,
            403: USER_ONLY,
        },
        function="api_my_notification_preferences",
    ),
    Route(
        "put",
        "/api/me/notification-preferences",
        "putMyNotificationPreferences",
        "Choose the caller's notification channels per event",
        "me",
        {
            200: Reply("The effective preferences", response_models.Preferences),
            400: Reply("The body is not JSON (`invalid_json`)"),
            401: UNAUTHENTICATED,
            403: Reply(
                "An app-only caller has no notifications (`user_required`); or the caller "
                "is a member of no tenant (`not_a_member`)"
            ),
            413: Reply(f"The body is over {MAX_BODY_BYTES} bytes (`payload_too_large`)"),
            422: Reply("The body violates the schema; `details` names the fields"),
        },
        body=PreferencesBody,
        function="api_my_notification_preferences",
        auth="member",
    ),
)

# Every authenticated route may find storage unavailable.
SECURED_DEFAULTS: dict[int, Reply] = {503: UNAVAILABLE}
