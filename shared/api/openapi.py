"""The route table of the HTTP surface and the OpenAPI 3.1 document built from it.

Each route is declared once, in OPERATIONS: method, path, the function that serves it,
its auth rule, its query and body models and its replies (pydantic models: request bodies
and query strings from shared.api.request_models and shared.api.me, responses from
shared.api.response_models). functions/_routes.py registers the HTTP triggers from this table, so
a path, a method or an auth rule is never written twice. Served at GET /api/openapi.json;
tests/unit/api checks the document against the functions function_app registers, and
tests/e2e runs schemathesis against the host.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api import response_models
from shared.api.me import NotificationQuery, PreferencesBody
from shared.api.parsing import MAX_BODY_BYTES
from shared.api.request_models import GroupMappingQuery, GroupSearchQuery, ListQuery, StartRequest

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Intune operation runs"
API_VERSION = "1"
REF = "#/components/schemas/{model}"
BEARER = "bearerAuth"

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
class Operation:
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

TENANT_PARAM = {
    "name": "tenant_id",
    "in": "path",
    "required": True,
    "description": "The managed tenant's id (a GUID); anything else is 404",
    "schema": {"type": "string", "format": "uuid"},
}
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "tenant_id": TENANT_PARAM,
    "run_id": {
        "name": "run_id",
        "in": "path",
        "required": True,
        "description": "The run's id (a ULID); a run of another tenant is 404",
        "schema": {"type": "string"},
    },
    "notification_id": {
        "name": "notification_id",
        "in": "path",
        "required": True,
        "description": "A notification's id (`{run_id}.{event}`)",
        "schema": {"type": "string"},
    },
}
HEADERS: dict[str, dict[str, Any]] = {
    "Location": {
        "description": "The new run's URL",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before polling (or retrying)",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/api/health",
        "health",
        "Liveness (anonymous; touches no storage)",
        "meta",
        {200: Reply("Alive", response_models.Health)},
        auth="anonymous",
        function="api_health",
    ),
    Operation(
        "get",
        "/api/openapi.json",
        "openapi",
        "This document (anonymous)",
        "meta",
        {200: Reply("The OpenAPI document")},
        auth="anonymous",
        function="api_openapi",
    ),
    Operation(
        "get",
        "/api/tenants",
        "listTenants",
        "The tenants the caller may see, with their role",
        "tenants",
        {200: Reply("The caller's tenants", response_models.TenantList), 401: UNAUTHENTICATED},
        function="api_list_tenants",
    ),
    Operation(
        "get",
        "/api/operation-types",
        "listOperationTypes",
        "The run-type catalogue: type, title, description, JSON Schema of the inputs",
        "operations",
        {200: Reply("The catalogue", response_models.Catalogue), 401: UNAUTHENTICATED},
        function="api_operation_types",
    ),
    Operation(
        "post",
        "/api/tenants/{tenant_id}/operations",
        "startOperation",
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
        function="api_start_operation",
        auth="writer",
    ),
    Operation(
        "get",
        "/api/tenants/{tenant_id}/operations",
        "listOperations",
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
        function="api_list_operations",
        auth="member",
    ),
    Operation(
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
        "long, a run type overdue). Bounded per tenant; answers are cached for a few seconds.",
        function="api_overview",
    ),
    Operation(
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
    Operation(
        "get",
        "/api/tenants/{tenant_id}/operations/{run_id}",
        "getOperation",
        "One run",
        "operations",
        {
            200: Reply("The run", response_models.Run),
            401: UNAUTHENTICATED,
            404: Reply("No such run in this tenant, or no such tenant (`not_found`)"),
        },
        path_params=("tenant_id", "run_id"),
        function="api_get_operation",
        auth="member",
    ),
    Operation(
        "post",
        "/api/tenants/{tenant_id}/operations/{run_id}/cancel",
        "cancelOperation",
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
        function="api_cancel_operation",
        auth="writer",
    ),
    Operation(
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
    Operation(
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
    Operation(
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
    Operation(
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
    Operation(
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
    Operation(
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
_SECURED_DEFAULTS: dict[int, Reply] = {503: UNAVAILABLE}


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS:
        for model in (op.query, op.body):
            if model is not None:
                found[(model, "validation")] = None
        for reply in [*op.replies.values(), *_SECURED_DEFAULTS.values()]:
            for out in (reply.model or response_models.ErrorBody, *reply.any_of):
                found[(out, "serialization")] = None
    return list(found)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string, never null: drop `Optional`'s null branch."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    rest = [s for s in options if s != {"type": "null"}]
    if len(rest) != 1:
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    merged.update(rest[0])
    if merged.get("default", ...) is None:
        del merged["default"]
    return merged


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(dict(prop))
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        description = prop.pop("description", None) or model.model_fields[name].description
        if description:
            param["description"] = description
        param["schema"] = prop
        params.append(param)
    return params


def _content(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


Refs = Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _write_replies(op: Operation) -> dict[int, Reply]:
    """What shared.api.csrf answers on every state-changing route."""
    if op.method == "get":
        return {}
    route_403 = op.replies.get(403)
    forbidden = Reply(f"{route_403.description}; or: {CROSS_SITE}" if route_403 else CROSS_SITE)
    return {403: forbidden, 415: NOT_JSON}


def _responses(op: Operation, refs: Refs) -> dict[str, Any]:
    replies = {**(_SECURED_DEFAULTS if op.secured else {}), **op.replies, **_write_replies(op)}
    out: dict[str, Any] = {}
    for status in sorted(replies):
        reply = replies[status]
        entry: dict[str, Any] = {"description": reply.description}
        if op.operation_id == "openapi":
            entry["content"] = _content({"type": "object"})
        else:
            main = refs[(reply.model or response_models.ErrorBody, "serialization")]
            if reply.any_of:
                alternatives = [refs[(m, "serialization")] for m in reply.any_of]
                entry["content"] = _content({"anyOf": [main, *alternatives]})
            else:
                entry["content"] = _content(main)
        if reply.headers:
            entry["headers"] = {name: HEADERS[name] for name in reply.headers}
        out[str(status)] = entry
    return out


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    models = _models()
    refs, definitions = models_json_schema(models, ref_template=REF)
    components = dict(sorted(definitions.get("$defs", {}).items()))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        spec: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
        }
        if op.description:
            spec["description"] = op.description
        parameters = [PATH_PARAMS[name] for name in op.path_params]
        if op.query is not None:
            schema = op.query.model_json_schema(ref_template=REF)
            parameters += _query_parameters(op.query, schema)
        if parameters:
            spec["parameters"] = parameters
        if op.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": _content(refs[(op.body, "validation")]),
            }
        spec["responses"] = _responses(op, refs)
        spec["security"] = [{BEARER: []}] if op.secured else []
        paths.setdefault(op.path, {})[op.method] = spec
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": "Canonical operation runs for a multi-tenant Intune / Entra "
            'administration back end. Errors are `{"error": {"code", "message", '
            '"details"?}}`; times are RFC 3339 UTC.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID access token for this API: delegated (`scp`) "
                    "or app-only (`roles`)",
                }
            },
        },
        "security": [{BEARER: []}],
    }


def document() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())
