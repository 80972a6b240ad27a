"""Write routes (start, cancel) and the run-type catalogue: these use the full composition
root, whose registry knows the run types. Paths, methods and auth rules are in the route
table (shared.api.routes.OPERATIONS)."""

from __future__ import annotations

import azure.functions as func

from functions._routes import Authorized, route
from shared.api import commands
from shared.api.present import ApiResponse
from shared.composition.reads import api_services
from shared.composition.services import services

bp = func.Blueprint()


@route(bp, "startOperation")
def start_operation(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return commands.start_operation(
        services().runs, api_services().links, who.tenant, who.user, req.get_body()
    )


@route(bp, "cancelOperation")
def cancel_operation(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return commands.cancel_operation(
        services().runs, api_services().links, who.tenant, req.route_params.get("run_id")
    )


@route(bp, "listOperationTypes")
def operation_types(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return commands.catalogue(services().registry)
