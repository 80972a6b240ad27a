"""`restore.execute`: recreate policies from a backup set in the tenant, with their
assignments retargeted through `group_mapping`.

Each backup item is an item. An assignment to a group the mapping does not name is not
restored: it is counted as a skipped item (reason `unmapped_group`). `dry_run` checks
and counts everything and writes nothing, to the tenant or to the ledger.

Idempotent per backup item: the RestoreLedger row is written before the create and
updated right after it, so a redelivery after a crash resumes each item where it
stopped and never creates a second copy (see shared.restore.ledger).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from shared.backups.store import BackupItem
from shared.errors import AppError
from shared.graph import GraphError, GraphOutcomeUnknown, GraphTransientError
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import PolicyKind, kind_named
from shared.restore.ledger import LedgerEntry, LedgerState
from shared.restore.payload import (
    UNMAPPED_GROUP,
    creation_body,
    map_assignments,
    restore_marker,
)
from shared.run_types.declarations import RESTORE_EXECUTE, RestoreInputs
from shared.run_types.item_bookkeeping import restart_counts, run_item
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.context import RunContext
from shared.runs.run_type import RunType


class BackupSetUnusable(AppError):
    """The backup set does not exist in this tenant, or was never completed."""

    code = "backup_set_unusable"


class _Restorer:
    """One run's restore: the context, the set, the tenant's Graph (None in a dry run)."""

    def __init__(
        self,
        deps: RunTypeDeps,
        ctx: RunContext,
        inputs: RestoreInputs,
        graph: PolicyGraph | None,
    ) -> None:
        self.deps = deps
        self.ctx = ctx
        self.inputs = inputs
        self.graph = graph

    def restore(self, item: BackupItem) -> None:
        document = self.deps.backups.payload(self.ctx.tenant_id, item)
        kind = kind_named(item.kind)
        mapped = map_assignments(document["assignments"], self.inputs.group_mapping)
        for _ in mapped.unmapped_groups:
            self.ctx.add_total(1)
            self.ctx.item_skipped(UNMAPPED_GROUP)
        marker = restore_marker(self.ctx.run.id, item.policy_id)
        body = creation_body(kind, document["policy"], marker)
        if self.graph is None:
            return  # dry run: the body and mapping were built and checked, nothing sent
        entry = self._created(item, kind, body, marker)
        self.ctx.add_count("created")
        if entry.state is LedgerState.CREATED:
            if mapped.targets:
                assert entry.created_policy_id is not None  # noqa: S101 - CREATED has one
                self.ctx.ensure_owned()
                self.graph.assign(kind, entry.created_policy_id, mapped.targets)
                self.ctx.add_count("assignments", len(mapped.targets))
            self.deps.ledger.record_assigned(entry, self.deps.clock())

    def _created(
        self, item: BackupItem, kind: PolicyKind, body: dict[str, Any], marker: str
    ) -> LedgerEntry:
        """The ledger entry once the policy exists in the tenant (created now or before)."""
        assert self.graph is not None  # noqa: S101 - not called in a dry run
        ledger, ctx = self.deps.ledger, self.ctx
        entry = ledger.get(ctx.tenant_id, ctx.run.id, item.key)
        if entry is not None and entry.state is not LedgerState.CREATING:
            return entry
        found = None
        if entry is not None:
            # An earlier attempt sent the create and died before recording its answer.
            found = self.graph.find_by_marker(kind, marker)
        else:
            entry = ledger.begin(
                LedgerEntry(
                    tenant_id=ctx.tenant_id,
                    run_id=ctx.run.id,
                    item_key=item.key,
                    backup_set_id=item.backup_set_id,
                    marker=marker,
                    state=LedgerState.CREATING,
                )
            )
        if found is None:
            ctx.ensure_owned()  # never create in the tenant for an attempt that lost the run
            try:
                found = self.graph.create(kind, body)
            except GraphOutcomeUnknown:
                # Sent, answer lost (a 504 may follow a committed create): look before
                # anything is sent again. Not there yet: the ledger keeps `creating`, and
                # the redelivery looks again before it creates.
                found = self.graph.find_by_marker(kind, marker)
                if found is None:
                    raise
            except GraphTransientError:
                raise  # not done (throttled, never sent): the ledger keeps `creating`
            except GraphError:
                ledger.forget(entry)  # Graph refused it: nothing was created
                raise
        return ledger.record_created(entry, found, self.deps.clock())


def make_restore_execute(deps: RunTypeDeps) -> RunType:
    def run(ctx: RunContext, inputs: RestoreInputs) -> dict[str, Any]:
        restart_counts(ctx, "created", "assignments")
        backup = deps.backups.get(ctx.tenant_id, inputs.backup_set_id)
        if backup is None or not backup.is_complete:
            raise BackupSetUnusable(
                f"backup set {inputs.backup_set_id} is not a complete backup of this tenant"
            )
        items = deps.backups.items(ctx.tenant_id, backup.id)
        missing: list[str] = []
        if inputs.policy_ids is not None:
            wanted = set(inputs.policy_ids)
            missing = sorted(wanted - {i.policy_id.lower() for i in items})
            items = [i for i in items if i.policy_id.lower() in wanted]
        ctx.set_total(len(items) + len(missing))
        for policy_id in missing:
            ctx.item_failed(policy_id, "policy_not_in_backup", f"{policy_id} is not in the set")
        if inputs.dry_run:
            _each(ctx, items, _Restorer(deps, ctx, inputs, None))
        else:
            with deps.graph.client(ctx.tenant_id) as client:
                _each(ctx, items, _Restorer(deps, ctx, inputs, PolicyGraph(client)))
        return {
            "backup_set_id": backup.id,
            "dry_run": inputs.dry_run,
            "restored": ctx.counts["succeeded"],
        }

    return RESTORE_EXECUTE.with_handler(run)


def _each(ctx: RunContext, items: list[BackupItem], restorer: _Restorer) -> None:
    for item in items:
        ctx.check_cancelled()
        run_item(ctx, item.ref, partial(restorer.restore, item))
