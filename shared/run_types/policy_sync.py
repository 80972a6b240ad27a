"""`policy.sync`: read the tenant's policies with their assignments into `PolicyInventory`.

Each policy is an item. Policies deleted in the tenant leave the inventory, per kind,
and only after that kind was listed without a failed item (an unreadable policy must
not be taken for a deleted one).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from shared.persistence.tables import RowBatch
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import PolicyKind, kind_named
from shared.policies.snapshot import parse_policy
from shared.run_types.declarations import POLICY_SYNC, PolicySyncInputs
from shared.run_types.item_bookkeeping import restart_counts, run_item
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.context import RunContext
from shared.runs.run_type import RunType


def make_policy_sync(deps: RunTypeDeps) -> RunType:
    def run(ctx: RunContext, inputs: PolicySyncInputs) -> dict[str, Any]:
        restart_counts(ctx, "removed")
        tenant_id = ctx.tenant_id
        sync_id = f"{ctx.run.id}.{ctx.attempt}"
        synced_at = deps.clock()
        per_kind: dict[str, int] = {}
        with deps.graph.client(tenant_id) as client:
            graph = PolicyGraph(client)
            for name in inputs.policy_types:
                kind = kind_named(name)
                failed_before = ctx.counts["failed"]
                seen = 0
                # Rows go 100 per transaction; the block is closed (written) before the
                # kind's unseen rows are removed, which must see this sync's rows.
                with deps.inventory.batch() as rows:
                    for page in graph.pages(kind):
                        ctx.add_total(len(page))
                        for index, raw in enumerate(page):
                            ctx.check_cancelled()
                            save = partial(
                                _save, deps, graph, tenant_id, kind, raw, sync_id, synced_at, rows
                            )
                            run_item(ctx, _ref(kind.name, raw, seen + index), save)
                        seen += len(page)
                per_kind[name] = seen
                if ctx.counts["failed"] == failed_before:
                    # Pruning deletes rows another attempt's sync id wrote: only the owner.
                    ctx.ensure_owned()
                    ctx.add_count("removed", deps.inventory.remove_unseen(tenant_id, kind, sync_id))
        return {"policies": per_kind, "synced_at": synced_at.isoformat()}

    return POLICY_SYNC.with_handler(run)


def _save(
    deps: RunTypeDeps,
    graph: PolicyGraph,
    tenant_id: str,
    kind: PolicyKind,
    raw: Any,
    sync_id: str,
    synced_at: datetime,
    rows: RowBatch,
) -> None:
    snapshot = parse_policy(kind, graph.complete(kind, raw))
    deps.inventory.save(tenant_id, snapshot, sync_id, synced_at, rows)


def _ref(kind: str, raw: Any, index: int) -> str:
    policy_id = raw.get("id") if isinstance(raw, dict) else None
    return f"{kind}/{policy_id}" if isinstance(policy_id, str) else f"{kind}/#{index}"
