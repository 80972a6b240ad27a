"""Registers an HTTP trigger from the route table (shared.api.routes.ROUTES): the
path, the methods, the function name and the auth rule come from there, so a trigger
module only says what the route does. The auth rule (shared.api.access.Access.authorize)
runs before the handler; the handler gets the authorized caller and, on a tenant's path,
the member's tenant id."""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.api.routes import ROUTES
from shared.composition.reads import api_services

_BY_ID = {op.operation_id: op for op in ROUTES}


Handler = Callable[[func.HttpRequest, Authorized], ApiResponse]


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
            who = api_services().access.authorize(op, headers_of(req), req.route_params)
            return handler(req, who)

        serve.__name__ = serve.__qualname__ = handler.__name__
        serve.__doc__ = handler.__doc__
        level = func.AuthLevel.ANONYMOUS if first.auth == "anonymous" else None
        trigger = bp.route(route=first.route, methods=list(by_method), auth_level=level)
        bp.function_name(first.function)(trigger(api_endpoint(serve)))
        return handler

    return register
