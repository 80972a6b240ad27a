"""Registers an HTTP trigger from the route table (shared.api.routes.ROUTES): the
path, the methods, the function name and the auth rule come from there, so a trigger
module only says what the route does. The auth rule (shared.api.access.Access.authorize)
runs before the handler; the handler gets the authorized caller and, on a tenant's path,
the member's tenant id. What the handler answers must be the response model the table
names for its status (a bug otherwise: a 500 that the tests see)."""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.api.routes import ROUTES, Route
from shared.composition.reads import api_services

_BY_ID = {op.operation_id: op for op in ROUTES}


Handler = Callable[[func.HttpRequest, Authorized], ApiResponse]


def _bodies(op: Route) -> dict[int, tuple[type, ...]]:
    """What the table lets the route answer per status (a reply without a model: a
    document it does not describe, the OpenAPI document itself)."""
    return {
        status: (reply.model, *reply.any_of) if reply.model is not None else (dict,)
        for status, reply in op.replies.items()
    }


def checked(op: Route, answer: ApiResponse) -> ApiResponse:
    allowed = _bodies(op).get(answer.status, ())
    if not isinstance(answer.body, allowed):
        raise TypeError(
            f"{op.operation_id} answered {answer.status} with {type(answer.body).__name__}; "
            f"the route table names {[t.__name__ for t in allowed] or 'no such reply'}"
        )
    return answer


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
            return checked(op, handler(req, who))

        serve.__name__ = serve.__qualname__ = handler.__name__
        serve.__doc__ = handler.__doc__
        level = func.AuthLevel.ANONYMOUS if first.auth == "anonymous" else None
        trigger = bp.route(route=first.route, methods=list(by_method), auth_level=level)
        bp.function_name(first.function)(trigger(api_endpoint(serve)))
        return handler

    return register
