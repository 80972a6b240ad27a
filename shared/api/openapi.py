"""The OpenAPI 3.1 document, built from the route table (shared.api.routes) and the
pydantic models it names. Served at GET /api/openapi.json.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api import response_models
from shared.api.routes import CROSS_SITE, NOT_JSON, ROUTES, SECURED_DEFAULTS, Reply, Route

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Intune operation runs"
API_VERSION = "1"
REF = "#/components/schemas/{model}"
BEARER = "bearerAuth"

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


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in ROUTES:
        for model in (op.query, op.body):
            if model is not None:
                found[(model, "validation")] = None
        for reply in [*op.replies.values(), *SECURED_DEFAULTS.values()]:
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


def _write_replies(op: Route) -> dict[int, Reply]:
    """What shared.api.csrf answers on every state-changing route."""
    if op.method == "get":
        return {}
    route_403 = op.replies.get(403)
    forbidden = Reply(f"{route_403.description}; or: {CROSS_SITE}" if route_403 else CROSS_SITE)
    return {403: forbidden, 415: NOT_JSON}


def _responses(op: Route, refs: Refs) -> dict[str, Any]:
    replies = {**(SECURED_DEFAULTS if op.secured else {}), **op.replies, **_write_replies(op)}
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
    for op in ROUTES:
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
