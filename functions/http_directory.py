"""GET /api/tenants/{tenant_id}/directory/groups?search=: delegated (on-behalf-of) search."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint, headers_of
from shared.api import directory
from shared.api.present import ApiResponse
from shared.composition.reads import api_services

bp = func.Blueprint()


@bp.function_name("api_search_groups")
@bp.route(route="api/tenants/{tenant_id}/directory/groups", methods=["GET"])
@api_endpoint
def search_groups(req: func.HttpRequest) -> ApiResponse:
    api = api_services()
    caller = api.access.caller(headers_of(req))
    member = api.access.member(caller, req.route_params.get("tenant_id"))
    return directory.search(api, caller, member.tenant_id, req.params)
