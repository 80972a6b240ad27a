"""GET /api/tenants/{tenant_id}/directory/groups?search=: delegated (on-behalf-of) search.
Path, method and auth rule are in the route table (shared.api.routes.ROUTES)."""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api import directory
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.composition.group_search import group_search_config

bp = func.Blueprint()


@route(bp, "searchGroups")
def search_groups(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return directory.search(group_search_config(), who.user, who.tenant, req.params)
