"""The delegated group search use case (the one API read that calls Graph, on purpose)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.api.parsing import parse_query
from shared.api.present import ApiResponse
from shared.api.request_models import GroupSearchQuery
from shared.auth.caller import Caller
from shared.config import Settings
from shared.group_search import GroupSearchConfig, search_groups


def group_search_config(s: Settings) -> GroupSearchConfig:
    return GroupSearchConfig(
        api_client_id=s.api_client_id,
        api_client_secret=s.api_client_secret,
        authority_base_url=s.graph_authority_base_url,
        graph_base_url=s.graph_base_url,
        ca_bundle=s.graph_ca_bundle,
    )


def search(
    settings: Settings, caller: Caller, tenant_id: str, params: Mapping[str, str]
) -> ApiResponse:
    query = parse_query(params, GroupSearchQuery)
    items = search_groups(
        group_search_config(settings), caller, tenant_id, query.search, top=query.top
    )
    return ApiResponse({"items": items})
