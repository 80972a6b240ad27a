"""The read use cases: the caller's tenants, run lists, one run. Storage only, never Graph.

Each takes the stores it reads (the trigger picks them from the composition root), so
this layer never imports the composition root."""

from __future__ import annotations

from collections.abc import Mapping

from shared.api import monitoring
from shared.api.monitoring import Monitor
from shared.api.parsing import parse_query, run_path_id
from shared.api.present import ApiResponse, run_json, run_summary_json
from shared.api.request_models import ListQuery
from shared.auth.caller import Caller
from shared.auth.membership import MembershipStore
from shared.runs.links import Links
from shared.runs.listing import RunFilter
from shared.runs.service import RunService


def my_tenants(members: MembershipStore, caller: Caller, *, obo_configured: bool) -> ApiResponse:
    """One partition query of the member mirror (fresh: a new grant shows at once)."""
    group_search = caller.is_delegated and obo_configured
    items = [
        {
            "tenant_id": m.tenant_id,
            "name": m.tenant_name or m.tenant_id,
            "role": m.role.value,
            "group_search_enabled": group_search,
        }
        for m in members.tenants_of(caller.oid, fresh=True)
    ]
    return ApiResponse({"items": items})


def list_runs(
    runs: RunService, links: Links, caller: Caller, tenant_id: str, params: Mapping[str, str]
) -> ApiResponse:
    query = parse_query(params, ListQuery)
    initiator = caller.oid if query.initiator == "me" else query.initiator
    run_filter = RunFilter(
        type=query.type, status=query.status, outcome=query.outcome, initiator_id=initiator
    )
    page, next_cursor = runs.list(tenant_id, run_filter, limit=query.limit, cursor=query.cursor)
    # Summaries: the list route returns what a list shows, not whole inputs.
    items = [run_summary_json(r, links) for r in page]
    return ApiResponse({"items": items, "next_cursor": next_cursor})


def get_run(runs: RunService, links: Links, tenant_id: str, raw_run_id: str | None) -> ApiResponse:
    run = runs.get(tenant_id, run_path_id(raw_run_id))
    return ApiResponse(run_json(run, links))


def overview(monitor: Monitor, members: MembershipStore, caller: Caller) -> ApiResponse:
    """All the caller's tenants at a glance (fresh membership, as for my_tenants)."""
    return monitoring.overview(monitor, members.tenants_of(caller.oid, fresh=True))


def tenant_glance(monitor: Monitor, tenant_id: str) -> ApiResponse:
    return monitoring.tenant_glance(monitor, tenant_id)
