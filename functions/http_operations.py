"""Write routes (start, cancel) and the run-type catalogue: these use the full composition
root, whose registry knows the run types."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api import commands
from shared.api.present import ApiResponse
from shared.composition.reads import api_services
from shared.composition.services import services

bp = func.Blueprint()


@bp.function_name("api_start_operation")
@bp.route(route="api/tenants/{tenant_id}/operations", methods=["POST"])
@api_endpoint
def start_operation(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"), write=True)
    return commands.start_operation(
        services().runs, api.links, member.tenant_id, caller, req.get_body()
    )


@bp.function_name("api_cancel_operation")
@bp.route(route="api/tenants/{tenant_id}/operations/{run_id}/cancel", methods=["POST"])
@api_endpoint
def cancel_operation(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"), write=True)
    return commands.cancel_operation(
        services().runs, api.links, member.tenant_id, req.route_params.get("run_id")
    )


@bp.function_name("api_operation_types")
@bp.route(route="api/operation-types", methods=["GET"])
@api_endpoint
def operation_types(req: func.HttpRequest) -> ApiResponse:
    api_services().access.caller(headers_of(req))
    return commands.catalogue(services().registry)
