"""GET /groups and /groups/{id}, with the advanced-query rules of the directory."""

from __future__ import annotations

import re
from typing import Any

from localcloud.graph.auth import Principal
from localcloud.graph.errors import bad_request, forbidden, not_found
from localcloud.graph.query import QueryError, option, page
from localcloud.graph.store import TenantStore
from localcloud.wire import Request, Response, json_response

READ_PERMISSIONS = (
    "GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All",
    "Directory.ReadWrite.All",
)  # fmt: skip
SEARCHABLE = ("displayName", "description", "mail", "mailNickname")
UNSUPPORTED = "Request_UnsupportedQuery"
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_CLAUSE = re.compile(r'"(\w+):([^"]*)"')
_FILTER_TERMS = (
    (re.compile(r"^startswith\((\w+),\s*'((?:[^']|'')*)'\)$", re.I), "startswith"),
    (re.compile(r"^(\w+)\s+eq\s+'((?:[^']|'')*)'$", re.I), "eq"),
    (re.compile(r"^(\w+)\s+eq\s+(true|false)$", re.I), "bool"),
    (re.compile(r"^groupTypes/any\(\w+:\w+\s+eq\s+'(\w+)'\)$", re.I), "grouptype"),
)


def _eventual(request: Request) -> bool:
    return (request.header("consistencylevel") or "").lower() == "eventual"


def _tokens(value: str) -> list[str]:
    # Graph's directory search splits on spaces, symbols and camelCase, then prefix-matches.
    return [w.lower() for w in _WORDS.findall(value)]


def _search(groups: list[dict[str, Any]], expression: str) -> list[dict[str, Any]]:
    parts = re.split(r"\s+(AND|OR)\s+", expression.strip())
    clauses, operators = parts[0::2], parts[1::2]
    parsed = []
    for clause in clauses:
        match = _CLAUSE.fullmatch(clause.strip())
        if not match or match.group(1) not in SEARCHABLE:
            raise QueryError(
                bad_request(f"Syntax error: '{clause}' is not a valid search clause.", UNSUPPORTED)
            )
        parsed.append((match.group(1), _tokens(match.group(2))))

    def hit(group: dict[str, Any], field: str, terms: list[str]) -> bool:
        words = _tokens(str(group.get(field) or ""))
        return bool(terms) and all(any(w.startswith(t) for w in words) for t in terms)

    def keep(group: dict[str, Any]) -> bool:
        result = hit(group, *parsed[0])
        for op, clause in zip(operators, parsed[1:], strict=True):
            result = (
                (result and hit(group, *clause)) if op == "AND" else (result or hit(group, *clause))
            )
        return result

    return [g for g in groups if keep(g)]


def _filter(groups: list[dict[str, Any]], expression: str) -> list[dict[str, Any]]:
    for term in re.split(r"\s+and\s+", expression.strip(), flags=re.I):
        for pattern, kind in _FILTER_TERMS:
            match = pattern.match(term.strip())
            if match:
                groups = [g for g in groups if _matches(g, kind, match.groups())]
                break
        else:
            raise QueryError(bad_request("Unsupported Query.", UNSUPPORTED))
    return groups


def _matches(group: dict[str, Any], kind: str, args: tuple[str, ...]) -> bool:
    if kind == "grouptype":
        return args[0].lower() in (t.lower() for t in group.get("groupTypes", []))
    field, value = args[0], args[1].replace("''", "'")
    actual = group.get(field)
    if kind == "bool":
        return actual is (value.lower() == "true")
    if not isinstance(actual, str):
        return False
    if kind == "startswith":
        return actual.lower().startswith(value.lower())
    return actual.lower() == value.lower()


def list_groups(store: TenantStore, principal: Principal, request: Request) -> Response:
    if not principal.has_any(*READ_PERMISSIONS):
        return forbidden()
    search, count = option(request, "search"), option(request, "count")
    orderby, filter_ = option(request, "orderby"), option(request, "filter")
    if search is not None and not _eventual(request):
        return bad_request(
            "Request with $search query parameter only works through MSGraph with a special "
            "request header: 'ConsistencyLevel: eventual'",
            UNSUPPORTED,
        )
    if (count or "").lower() == "true" and not _eventual(request):
        return bad_request("$count is not currently supported.", "Request_BadRequest")
    groups = store.groups()
    try:
        if filter_:
            groups = _filter(groups, filter_)
        if search is not None:
            groups = _search(groups, search)
        if orderby:
            field, _, direction = orderby.strip().partition(" ")
            if field != "displayName" or not _eventual(request) or count != "true":
                return bad_request("Sorting not supported for current query.", UNSUPPORTED)
            groups.sort(key=lambda g: g["displayName"].lower(), reverse=direction.lower() == "desc")
        extra = {"@odata.count": len(groups)} if (count or "").lower() == "true" else None
        select = option(request, "select")
        context = f"{request.base_url}/v1.0/$metadata#groups" + (f"({select})" if select else "")
        body = page(groups, request, context=context, entity="group", default_top=100, extra=extra)
    except QueryError as error:
        return error.response
    return json_response(200, body)


def get_group(
    store: TenantStore, principal: Principal, request: Request, group_id: str
) -> Response:
    if not principal.has_any(*READ_PERMISSIONS):
        return forbidden()
    group = store.group(group_id)
    if group is None:
        return not_found(
            f"Resource '{group_id}' does not exist or one of its queried reference-property "
            "objects are not present.",
            code="Request_ResourceNotFound",
        )
    return json_response(
        200, {"@odata.context": f"{request.base_url}/v1.0/$metadata#groups/$entity", **group}
    )
