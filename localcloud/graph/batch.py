"""POST /$batch: JSON batching, at most 20 requests, inner responses in the outer 200
(learn.microsoft.com/graph/json-batching)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from localcloud.graph.errors import bad_request
from localcloud.wire import Request, Response, json_response

MAX_REQUESTS = 20


def _inner_body(response: Response) -> Any:
    if not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        # Graph base64-encodes inner bodies that are not JSON.
        return base64.b64encode(response.body).decode("ascii")


def run_batch(request: Request, version: str, dispatch: Callable[[Request], Response]) -> Response:
    try:
        payload = request.json()
    except ValueError:
        return bad_request("Invalid batch payload format.")
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        return bad_request("Invalid batch payload format.")
    if len(items) > MAX_REQUESTS:
        return bad_request(f"The number of batch requests exceeded the maximum of {MAX_REQUESTS}.")
    ids = [str(item.get("id", "")) if isinstance(item, dict) else "" for item in items]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        return bad_request("Each batch request needs a unique, non-empty id.")
    statuses: dict[str, int] = {}
    responses = []
    for item, item_id in zip(items, ids, strict=True):
        response = _one(request, version, item, statuses, dispatch)
        statuses[item_id] = response.status
        responses.append(
            {
                "id": item_id,
                "status": response.status,
                "headers": {
                    k: v for k, v in response.headers.items() if k.lower() != "content-length"
                },
                "body": _inner_body(response),
            }
        )
    return json_response(200, {"responses": responses})


def _one(
    outer: Request,
    version: str,
    item: dict[str, Any],
    statuses: dict[str, int],
    dispatch: Callable[[Request], Response],
) -> Response:
    method, url = str(item.get("method", "")).upper(), item.get("url")
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not isinstance(url, str):
        return bad_request("Each batch request needs a method and a relative url.")
    if "://" in url:
        return bad_request("Batch request urls must be relative to the version, e.g. '/groups'.")
    depends = item.get("dependsOn") or []
    if any(statuses.get(str(d), 424) >= 400 for d in depends):
        return json_response(
            424, {"error": {"code": "FailedDependency", "message": "A dependency failed."}}
        )
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    body = b""
    if "body" in item:
        if "content-type" not in headers:
            return bad_request("Content-Type header must be specified for requests with a body.")
        body = json.dumps(item["body"]).encode("utf-8")
    # The inner request rides on the outer one's credentials and headers.
    inner_headers = {"authorization": outer.header("authorization") or "", **headers}
    target = f"/{version}/{url.lstrip('/')}"
    inner = Request.build(method, target, inner_headers, body, base_url=outer.base_url)
    return dispatch(inner)
