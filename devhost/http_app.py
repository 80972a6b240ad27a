"""Turn one HTTP request into a function invocation and its response.

Kept apart from the socket server so the request/response mapping is plain data in,
plain data out: route lookup (404/405), CORS, building `func.HttpRequest`, and
rendering whatever the function returned the way the Python worker does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from devhost.cors import CorsPolicy
from devhost.easyauth import EasyAuth
from devhost.invoke import invoke
from devhost.loader import HttpFunction
from devhost.routes import MethodNotAllowed, RouteMatch, RouteTable, join_prefix

log = logging.getLogger("devhost.http")


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def error_reply(status: int, code: str, message: str) -> Reply:
    """The app's own error shape (ErrorBody in /api/openapi.json), so clients parse one format."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return Reply(status, [("Content-Type", "application/json; charset=utf-8")], body)


class HttpApp:
    def __init__(
        self,
        functions: Iterable[HttpFunction],
        route_prefix: str,
        cors: CorsPolicy,
        easy_auth: EasyAuth | None = None,
    ) -> None:
        self.cors = cors
        self.easy_auth = easy_auth
        self.routes: RouteTable[HttpFunction] = RouteTable()
        for spec in functions:
            self.routes.add(join_prefix(route_prefix, spec.route), spec.methods, spec)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str
    ) -> Reply:
        """`headers` has lower-case names; `target` is the request-target (path?query)."""
        path = urlsplit(target).path
        if self.easy_auth is not None:
            # App Service Authentication runs in front of the app, as in Azure.
            if self.easy_auth.handles(path):
                auth = self.easy_auth.handle(method, target, headers)
                return Reply(auth.status, auth.headers, auth.body)
            headers = self.easy_auth.inbound_headers(headers)
        if self.cors.is_preflight(method, headers):
            return self._preflight(path, headers)
        found = self.routes.resolve(method, path)
        if found is None:
            reply = error_reply(404, "not_found", "No function serves this route.")
        elif isinstance(found, MethodNotAllowed):
            reply = error_reply(405, "method_not_allowed", "This route does not take that method.")
            reply.headers.append(("Allow", ", ".join(found.allowed)))
        else:
            reply = self._invoke(found, method, target, headers, body, base_url)
        reply.headers.extend(self.cors.response_headers(headers).items())
        return reply

    def _preflight(self, path: str, headers: Mapping[str, str]) -> Reply:
        candidates = self.routes.path_matches(path)
        if not candidates:
            return error_reply(404, "not_found", "No function serves this route.")
        methods = sorted({m for route, _ in candidates for m in route.methods})
        # A refused preflight still answers 204: the missing headers are the refusal.
        return Reply(204, list(self.cors.preflight_headers(headers, methods).items()))

    def _invoke(
        self,
        found: RouteMatch[HttpFunction],
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        base_url: str,
    ) -> Reply:
        spec = found.target
        query = urlsplit(target).query
        request = func.HttpRequest(
            method.upper(),
            base_url + target,
            headers=dict(headers),
            params=_query_params(query),
            route_params=found.route_params,
            body=body,
        )
        try:
            result = invoke(spec.user_function, spec.name, spec.trigger_arg, request)
            return render(result)
        except Exception:
            # The stack trace goes to the log only: it may name secrets or internals.
            log.exception("function %s failed on %s %s", spec.name, method, target)
            return error_reply(500, "internal_error", "The function failed.")


def _query_params(query: str) -> dict[str, str]:
    """Repeated keys are joined with commas, as ASP.NET's StringValues print them."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in params.items()}


def render(result: object) -> Reply:
    """A function's return value as the worker turns it into an HTTP response."""
    if isinstance(result, func.HttpResponse):
        headers = list(result.headers.items())
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", f"{result.mimetype}; charset={result.charset}"))
        return Reply(result.status_code, headers, result.get_body())
    if result is None:
        return Reply(204)
    if isinstance(result, str):
        return Reply(200, [("Content-Type", "text/plain; charset=utf-8")], result.encode())
    if isinstance(result, bytes | bytearray):
        return Reply(200, [("Content-Type", "application/octet-stream")], bytes(result))
    raise TypeError(f"an HTTP function returned {type(result).__name__}, not an HttpResponse")
