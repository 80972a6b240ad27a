"""The read use cases: the caller's tenants, run lists, one run. Storage only, never Graph."""

from __future__ import annotations

from collections.abc import Mapping

from shared.api import monitoring
from shared.api.parsing import parse_query, run_path_id
from shared.api.present import ApiResponse, run_json, run_summary_json
from shared.api.request_models import ListQuery
from shared.auth.caller import Caller
from shared.composition.reads import ApiServices
from shared.runs.listing import RunFilter


def my_tenants(api: ApiServices, caller: Caller) -> ApiResponse:
    """One partition query of the member mirror (fresh: a new grant shows at once)."""
    group_search = caller.is_delegated and api.obo_configured
    items = [
        {
            "tenant_id": m.tenant_id,
            "name": m.tenant_name or m.tenant_id,
            "role": m.role.value,
            "group_search_enabled": group_search,
        }
        for m in api.members.tenants_of(caller.oid, fresh=True)
    ]
    return ApiResponse({"items": items})


def list_runs(
    api: ApiServices, caller: Caller, tenant_id: str, params: Mapping[str, str]
) -> ApiResponse:
    query = parse_query(params, ListQuery)
    initiator = caller.oid if query.initiator == "me" else query.initiator
    run_filter = RunFilter(
        type=query.type, status=query.status, outcome=query.outcome, initiator_id=initiator
    )
    runs, next_cursor = api.runs.list(tenant_id, run_filter, limit=query.limit, cursor=query.cursor)
    # Summaries: the list route returns what a list shows, not whole inputs.
    items = [run_summary_json(r, api.links) for r in runs]
    return ApiResponse({"items": items, "next_cursor": next_cursor})


def get_run(api: ApiServices, tenant_id: str, raw_run_id: str | None) -> ApiResponse:
    run = api.runs.get(tenant_id, run_path_id(raw_run_id))
    return ApiResponse(run_json(run, api.links))


def overview(api: ApiServices, caller: Caller) -> ApiResponse:
    """All the caller's tenants at a glance (fresh membership, as for my_tenants)."""
    return monitoring.overview(api.monitor, api.members.tenants_of(caller.oid, fresh=True))


def tenant_glance(api: ApiServices, tenant_id: str) -> ApiResponse:
    return monitoring.tenant_glance(api.monitor, tenant_id)
