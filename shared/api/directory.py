"""The delegated group search use case (the one API read that calls Graph, on purpose).

It gets its wiring (our API app's credential, the endpoints) from the composition root
(shared.composition.group_search); it reads no settings and builds no client itself."""

from __future__ import annotations

from collections.abc import Mapping

from shared.api.parsing import parse_query
from shared.api.present import ApiResponse
from shared.api.request_models import GroupSearchQuery
from shared.api.response_models import GroupSearchResult
from shared.auth.caller import Caller
from shared.group_search import GroupSearchConfig, search_groups


def search(
    config: GroupSearchConfig, caller: Caller, tenant_id: str, params: Mapping[str, str]
) -> ApiResponse:
    query = parse_query(params, GroupSearchQuery)
    items = search_groups(config, caller, tenant_id, query.search, top=query.top)
    return ApiResponse(GroupSearchResult.model_validate({"items": items}))
