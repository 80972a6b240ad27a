"""`backup.capture`: snapshot policies with their assignments into a new backup set.

The set's id is the run's id, so a redelivered run (after a crash) continues the same
set: items an earlier attempt captured are kept, not captured twice, and a set that was
already sealed is reported as it is. Sealing makes the set immutable.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from shared.backups.store import BackupSet
from shared.persistence.tables import RowBatch
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import ALL_KIND_NAMES, PolicyKind, kind_named
from shared.policies.snapshot import parse_policy
from shared.run_types.declarations import BACKUP_CAPTURE, BackupCaptureInputs
from shared.run_types.item_bookkeeping import run_item
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.context import RunContext
from shared.runs.run_type import RunType

POLICY_NOT_FOUND = "policy_not_found"


def backup_set_id_for(run_id: str) -> str:
    """One run, one set: a re-run after a crash finds the set it started."""
    return run_id


def make_backup_capture(deps: RunTypeDeps) -> RunType:
    def run(ctx: RunContext, inputs: BackupCaptureInputs) -> dict[str, Any]:
        tenant_id = ctx.tenant_id
        backup = deps.backups.begin(
            tenant_id,
            backup_set_id_for(ctx.run.id),
            label=inputs.label,
            run_id=ctx.run.id,
            now=deps.clock(),
        )
        if backup.is_complete:  # sealed by an attempt that died before finishing the run
            ctx.set_total(backup.item_count)
            ctx.item_succeeded(backup.item_count)
            return _result(backup)
        captured = deps.backups.captured_keys(tenant_id, backup.id)
        wanted = set(inputs.policy_ids) if inputs.policy_ids is not None else None
        if wanted is not None:
            ctx.set_total(len(wanted))
        # Item rows go 100 per transaction; the block is closed (written) before the set
        # is counted and sealed.
        with deps.graph.client(tenant_id) as client, deps.backups.batch() as rows:
            graph = PolicyGraph(client)
            for name in ALL_KIND_NAMES:
                kind = kind_named(name)
                for page in graph.pages(kind):
                    if wanted is None:
                        ctx.add_total(len(page))
                    for raw in page:
                        policy_id = str(raw.get("id", "")).lower() if isinstance(raw, dict) else ""
                        if wanted is not None:
                            if policy_id not in wanted:
                                continue
                            wanted.discard(policy_id)
                        ctx.check_cancelled()
                        if f"{kind.name}~{policy_id}" in captured:
                            ctx.item_succeeded()  # captured by an earlier attempt
                            continue

                        capture = partial(_capture, deps, graph, backup, kind, raw, rows)
                        run_item(ctx, f"{kind.name}/{policy_id or '?'}", capture)
        for missing in sorted(wanted or ()):
            ctx.item_failed(missing, POLICY_NOT_FOUND, f"policy {missing} is not in the tenant")
        item_count = len(deps.backups.captured_keys(tenant_id, backup.id))
        sealed = deps.backups.complete(backup, item_count=item_count, now=deps.clock())
        return _result(sealed)

    return BACKUP_CAPTURE.with_handler(run)


def _capture(
    deps: RunTypeDeps,
    graph: PolicyGraph,
    backup: BackupSet,
    kind: PolicyKind,
    raw: Any,
    rows: RowBatch,
) -> None:
    snapshot = parse_policy(kind, graph.complete(kind, raw))
    deps.backups.add_item(backup, snapshot, deps.clock(), rows)


def _result(backup: BackupSet) -> dict[str, Any]:
    return {"backup_set_id": backup.id, "items": backup.item_count, "label": backup.label}
