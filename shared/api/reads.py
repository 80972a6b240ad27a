"""The read use cases: the caller's tenants, the run-type catalogue, run lists, one run.
Storage only (the catalogue not even that), never Graph.

Each takes the stores it reads (the trigger picks them from the composition root), so
this layer never imports the composition root."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.api import monitoring
from shared.api.monitoring import Monitor
from shared.api.parsing import parse_query, run_path_id
from shared.api.present import ApiResponse, run_detail, run_page
from shared.api.request_models import ListQuery
from shared.api.response_models import Catalogue, TenantList
from shared.auth.caller import Caller
from shared.auth.membership import MembershipStore
from shared.runs.links import Links
from shared.runs.listing import RunFilter
from shared.runs.run_type import RunTypeDeclaration
from shared.runs.service import RunService


def my_tenants(members: MembershipStore, caller: Caller, *, obo_configured: bool) -> ApiResponse:
    """One partition query of the member mirror (fresh: a new grant shows at once)."""
    group_search = caller.is_delegated and obo_configured
    items = [
        {
            "tenant_id": m.tenant_id,
            "name": m.tenant_name or m.tenant_id,
            "role": m.role,
            "group_search_enabled": group_search,
        }
        for m in members.tenants_of(caller.oid, fresh=True)
    ]
    return ApiResponse(TenantList.model_validate({"items": items}))


def run_types(declared: Iterable[RunTypeDeclaration]) -> ApiResponse:
    """The catalogue: what each run type is and the JSON Schema of its inputs. Built from
    the declarations alone, never from the handlers (and what they need: Graph)."""
    entries = [
        {
            "type": d.name,
            "title": d.title,
            "description": d.description,
            "inputs_schema": d.json_schema(),
        }
        for d in declared
    ]
    return ApiResponse(Catalogue.model_validate({"items": entries}))


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
    return ApiResponse(run_page(page, links, next_cursor))


def get_run(runs: RunService, links: Links, tenant_id: str, raw_run_id: str | None) -> ApiResponse:
    run = runs.get(tenant_id, run_path_id(raw_run_id))
    return ApiResponse(run_detail(run, links))


def overview(monitor: Monitor, members: MembershipStore, caller: Caller) -> ApiResponse:
    """All the caller's tenants at a glance (fresh membership, as for my_tenants)."""
    return monitoring.overview(monitor, members.tenants_of(caller.oid, fresh=True))


def tenant_glance(monitor: Monitor, tenant_id: str) -> ApiResponse:
    return monitoring.tenant_glance(monitor, tenant_id)
