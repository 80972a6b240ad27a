"""OData query options shared by list endpoints: $top, $skiptoken paging, $select
(learn.microsoft.com/graph/query-parameters, learn.microsoft.com/graph/paging)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote, urlencode

from localcloud.graph.errors import bad_request
from localcloud.wire import Request, Response

MAX_TOP = 999
TOKEN_PREFIX = "lc1:"  # noqa: S105 - a page-token marker, not a secret


class QueryError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("invalid query")
        self.response = response


def option(request: Request, name: str) -> str | None:
    """A $-option; Graph also accepts it without the dollar sign."""
    if f"${name}" in request.query:
        return request.query[f"${name}"]
    return request.query.get(name)


def top(request: Request, default: int) -> int:
    raw = option(request, "top")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(bad_request(f"Invalid value '{raw}' for $top.")) from None
    if not 1 <= value <= MAX_TOP:
        raise QueryError(
            bad_request(
                f"Invalid page size specified: '{value}'. "
                f"Must be between 1 and {MAX_TOP} inclusive."
            )
        )
    return value


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{TOKEN_PREFIX}{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith(TOKEN_PREFIX):
            raise ValueError(text)
        return int(text[len(TOKEN_PREFIX) :])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise QueryError(
            bad_request(
                "The specified page token value has expired and can no longer be included in "
                "your request.",
                code="Directory_ExpiredPageToken",
            )
        ) from None


def select(items: list[dict[str, Any]], request: Request, entity: str) -> list[dict[str, Any]]:
    raw = option(request, "select")
    if not raw:
        return items
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    known = set().union(*(i.keys() for i in items)) if items else set(fields)
    for field in fields:
        if field not in known:
            raise QueryError(
                bad_request(
                    f"Could not find a property named '{field}' on type "
                    f"'microsoft.graph.{entity}'.",
                    code="Request_BadRequest",
                )
            )
    keep = set(fields) | {"@odata.type"}
    return [{k: v for k, v in item.items() if k in keep} for item in items]


def page(
    items: list[dict[str, Any]],
    request: Request,
    *,
    context: str,
    entity: str,
    default_top: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of items with @odata.nextLink (absolute, opaque $skiptoken) when more remain."""
    size = top(request, default_top)
    token = option(request, "skiptoken")
    offset = _decode_token(token) if token else 0
    if offset < 0 or offset > len(items):
        raise QueryError(bad_request("Invalid $skiptoken.", code="Directory_ExpiredPageToken"))
    chunk = select(items[offset : offset + size], request, entity)
    body: dict[str, Any] = {"@odata.context": context, **(extra or {}), "value": chunk}
    if offset + size < len(items):
        params = {k: v for k, v in request.query.items() if k not in ("$skiptoken", "skiptoken")}
        body["@odata.nextLink"] = skip_link(request.base_url, request.path, params, offset + size)
    return body


def skip_link(base_url: str, path: str, params: dict[str, str], offset: int) -> str:
    """An absolute, opaque next link to the items from `offset` on."""
    query = urlencode(
        {**params, "$skiptoken": _encode_token(offset)}, quote_via=quote, safe="$,'()"
    )
    return f"{base_url}{path}?{query}"
