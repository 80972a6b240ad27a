"""Read routes of the monitoring surface: my tenants, the run-type catalogue, the
all-tenants overview, a tenant's glance, run list, run detail, and the restore group
mapping. Paths, methods and auth
rules are in the route table (shared.api.routes.ROUTES).

Storage only. This module imports shared.api and the composition root's read side, never
shared.composition.services or shared.graph: an import-linter contract keeps it that way.
"""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api import reads, restore
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.composition.reads import api_services

bp = func.Blueprint()


@route(bp, "listTenants")
def list_tenants(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    api = api_services()
    return reads.my_tenants(api.members, who.user, obo_configured=api.obo_configured)


@route(bp, "listRunTypes")
def run_types(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return reads.run_types(api_services().run_types)


@route(bp, "getOverview")
def overview(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    api = api_services()
    return reads.overview(api.monitor, api.members, who.user)


@route(bp, "getTenantGlance")
def tenant_glance(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return reads.tenant_glance(api_services().monitor, who.tenant)


@route(bp, "listRuns")
def list_runs(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    api = api_services()
    return reads.list_runs(api.runs, api.links, who.user, who.tenant, req.params)


@route(bp, "getRun")
def get_run(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    api = api_services()
    return reads.get_run(api.runs, api.links, who.tenant, req.route_params.get("run_id"))


@route(bp, "restoreGroupMapping")
def restore_group_mapping(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    api = api_services()
    return restore.group_mapping(api.backups, api.groups, who.tenant, req.params)
