"""Registers an HTTP trigger from the route table (shared.api.routes.OPERATIONS): the
path, the methods, the function name and the auth rule come from there, so a trigger
module only says what the route does. The auth rule runs before the handler; the handler
gets the authorized caller and, on a tenant's path, the member's tenant id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api.present import ApiResponse
from shared.api.routes import OPERATIONS, Operation
from shared.auth.caller import Caller
from shared.composition.reads import api_services

_BY_ID = {op.operation_id: op for op in OPERATIONS}


@dataclass(frozen=True)
class Authorized:
    """Who passed the route's auth rule. `caller` is None only on anonymous routes;
    `tenant_id` is set when the path names a tenant and the rule is member or writer."""

    caller: Caller | None
    tenant_id: str | None = None

    @property
    def user(self) -> Caller:
        if self.caller is None:  # an anonymous route asked for a caller: a wiring bug
            raise RuntimeError("this route is anonymous")
        return self.caller

    @property
    def tenant(self) -> str:
        if self.tenant_id is None:
            raise RuntimeError("this route names no tenant")
        return self.tenant_id


Handler = Callable[[func.HttpRequest, Authorized], ApiResponse]


def _authorize(op: Operation, req: func.HttpRequest) -> Authorized:
    if op.auth == "anonymous":
        return Authorized(None)
    access = api_services().access
    caller = access.caller(headers_of(req))
    if op.auth == "caller":
        return Authorized(caller)
    if "tenant_id" not in op.path_params:
        access.require_membership(caller)
        return Authorized(caller)
    member = access.member(caller, req.route_params.get("tenant_id"), write=op.auth == "writer")
    return Authorized(caller, member.tenant_id)


def route(bp: func.Blueprint, *operation_ids: str) -> Callable[[Handler], Handler]:
    """Serve the table's operations (one path; several when methods share a function)."""
    ops = [_BY_ID[operation_id] for operation_id in operation_ids]
    first = ops[0]
    if any(op.path != first.path or op.function != first.function for op in ops):
        raise ValueError(f"{operation_ids}: one function serves one path")
    by_method = {op.method.upper(): op for op in ops}

    def register(handler: Handler) -> Handler:
        def serve(req: func.HttpRequest) -> ApiResponse:
            op = by_method.get(req.method.upper(), first)
            return handler(req, _authorize(op, req))

        serve.__name__ = serve.__qualname__ = handler.__name__
        serve.__doc__ = handler.__doc__
        level = func.AuthLevel.ANONYMOUS if first.auth == "anonymous" else None
        trigger = bp.route(route=first.route, methods=list(by_method), auth_level=level)
        bp.function_name(first.function)(trigger(api_endpoint(serve)))
        return handler

    return register
