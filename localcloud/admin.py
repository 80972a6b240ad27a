"""/_admin endpoints: fault switches, counters, recorded mail and Teams posts, tokens.

Unauthenticated on purpose: the local cloud listens on loopback for dev and tests only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localcloud.wire import Request, Response, empty, json_response

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud


def _bad(message: str) -> Response:
    return json_response(400, {"error": {"code": "BadRequest", "message": message}})


def _json_object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def handle(cloud: LocalCloud, request: Request) -> Response:
    path, method = request.path.rstrip("/"), request.method
    try:
        if path == "/_admin/faults":
            if method == "GET":
                return json_response(200, {"value": [r.to_json() for r in cloud.faults.rules()]})
            if method == "POST":
                body = _json_object(request)
                rule = cloud.faults.add(str(body.pop("kind", "")), **body)
                return json_response(201, rule.to_json())
            if method == "DELETE":
                return json_response(200, {"removed": cloud.faults.clear(request.query.get("id"))})
        if path.startswith("/_admin/faults/") and method == "DELETE":
            removed = cloud.faults.clear(path.rsplit("/", 1)[1])
            return empty(204) if removed else json_response(404, {"error": {"code": "NotFound"}})
        if method == "GET" and path == "/_admin/counters":
            return json_response(200, cloud.records.to_json())
        if method == "GET" and path == "/_admin/mail":
            return json_response(200, {"value": cloud.records.mail_json()})
        if method == "GET" and path == "/_admin/teams":
            return json_response(200, {"value": cloud.records.teams_json()})
        if method == "GET" and path == "/_admin/info":
            return json_response(200, cloud.info())
        if method == "POST" and path == "/_admin/reset":
            cloud.records.reset()
            cloud.faults.clear()
            return empty(204)
        if method == "POST" and path == "/_admin/tokens/user":
            body = _json_object(request)
            token = cloud.issue_user_token(
                str(body.get("user", "")),
                **{
                    k: body[k] for k in ("audience", "scopes", "tenant_id", "lifetime") if k in body
                },
            )
            return json_response(200, {"token_type": "Bearer", "access_token": token})
        if method == "POST" and path == "/_admin/tokens/app":
            body = _json_object(request)
            token = cloud.issue_app_token(
                str(body.get("tenant_id", "")),
                **{k: body[k] for k in ("audience", "roles", "client_id", "lifetime") if k in body},
            )
            return json_response(200, {"token_type": "Bearer", "access_token": token})
    except (ValueError, KeyError, TypeError) as error:
        return _bad(str(error))
    return json_response(
        404, {"error": {"code": "NotFound", "message": f"No admin route {method} {path}"}}
    )
