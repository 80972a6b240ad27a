"""Read routes of the monitoring surface: my tenants, the all-tenants overview, a tenant's
glance, run list, run detail, and the restore group mapping.

Storage only. This module imports shared.api and the composition root's read side, never
shared.composition.services or shared.graph: an import-linter contract keeps it that way.
"""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api import reads, restore
from shared.api.present import ApiResponse
from shared.composition.reads import api_services

bp = func.Blueprint()


@bp.function_name("api_list_tenants")
@bp.route(route="api/tenants", methods=["GET"])
@api_endpoint
def list_tenants(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    return reads.my_tenants(api, caller)


@bp.function_name("api_overview")
@bp.route(route="api/overview", methods=["GET"])
@api_endpoint
def overview(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    return reads.overview(api, caller)


@bp.function_name("api_tenant_glance")
@bp.route(route="api/tenants/{tenant_id}/glance", methods=["GET"])
@api_endpoint
def tenant_glance(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"))
    return reads.tenant_glance(api, member.tenant_id)


@bp.function_name("api_list_operations")
@bp.route(route="api/tenants/{tenant_id}/operations", methods=["GET"])
@api_endpoint
def list_operations(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"))
    return reads.list_runs(api, caller, member.tenant_id, req.params)


@bp.function_name("api_get_operation")
@bp.route(route="api/tenants/{tenant_id}/operations/{run_id}", methods=["GET"])
@api_endpoint
def get_operation(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"))
    return reads.get_run(api, member.tenant_id, req.route_params.get("run_id"))


@bp.function_name("api_restore_group_mapping")
@bp.route(route="api/tenants/{tenant_id}/restore/group-mapping", methods=["GET"])
@api_endpoint
def restore_group_mapping(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"))
    return restore.group_mapping(api.backups, api.groups, member.tenant_id, req.params)
