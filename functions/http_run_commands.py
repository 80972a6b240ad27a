"""Write routes (start, cancel): these use the full composition root, whose registry knows
the run types and their handlers. Paths, methods and auth rules are in the route table
(shared.api.routes.ROUTES). The catalogue is a read (functions.http_reads)."""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api import commands
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.composition.reads import api_services
from shared.composition.services import services

bp = func.Blueprint()


@route(bp, "startRun")
def start_run(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return commands.start_run(
        services().runs, api_services().links, who.tenant, who.user, req.get_body()
    )


@route(bp, "cancelRun")
def cancel_run(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return commands.cancel_run(
        services().runs, api_services().links, who.tenant, req.route_params.get("run_id")
    )
