"""Runs written straight into the run table for the monitoring tests: finished, failed or
long-queued runs at chosen times, through the real store and the pure lifecycle model
(what a worker would have written), without waiting for a worker or a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.config import RUNS_TABLE
from shared.persistence.clients import StorageClients
from shared.runs import model
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Failure, Initiator, Run, RunOutcome
from shared.runs.store import RunStore

OPERATOR = Initiator(id="demo-operator", name="Olivia Operator", email="operator@contoso.test")


def put_run(
    storage: StorageClients,
    tenant_id: str,
    run_type: str,
    *,
    ago: timedelta,
    outcome: RunOutcome | None = RunOutcome.SUCCEEDED,
    took: timedelta = timedelta(seconds=42),
    summary: str = "",
    inputs: dict[str, object] | None = None,
    failures: tuple[Failure, ...] = (),
    initiator: Initiator = OPERATOR,
) -> Run:
    """A run created `ago` ago: finished with `outcome` after `took`, or still queued
    (outcome None)."""
    store = RunStore(storage.table(RUNS_TABLE))
    created = datetime.now(UTC) - ago
    values = dict(inputs or {"note": summary or run_type})
    run = model.new_run(
        run_id=new_run_id(created),
        tenant_id=tenant_id,
        run_type=run_type,
        inputs=values,
        identity_hash=identity_hash(tenant_id, run_type, {**values, "at": created.isoformat()}),
        initiator=initiator,
        now=created,
        input_summary=summary,
    )
    run = store.create_with_lock(run)
    if outcome is None:
        return run
    lock = store.get_lock(tenant_id, run.identity_hash)
    claimed = store.replace(model.claim(run, now=created, lease=timedelta(minutes=10)))
    total = 10
    failed = {RunOutcome.FAILED: total, RunOutcome.PARTIALLY_SUCCEEDED: len(failures) or 2}.get(
        outcome, 0
    )
    counts = {
        "total": total,
        "processed": total,
        "succeeded": total - failed,
        "failed": failed,
        "skipped": 0,
    }
    done = model.finish(
        claimed, outcome=outcome, now=created + took, counts=counts, failures=failures
    )
    return store.replace_and_release(done, lock)


# -- a demo history: what an MSP's tenants look like after two weeks of use ----------------

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def seed_history(
    storage: StorageClients, tenant_id: str, *, failing: bool = False, backlog: int = 0
) -> None:
    """14 days of daily syncs and nightly backups; `failing` adds failed policy syncs today
    and a partial restore; `backlog` adds backups queued 12 minutes ago."""
    for day in range(14, 0, -1):
        at = day * DAY
        put_run(
            storage,
            tenant_id,
            "directory_groups.sync",
            ago=at - 2 * HOUR,
            took=timedelta(seconds=8 + day % 5),
            summary="all groups",
        )
        sync_outcome = RunOutcome.FAILED if day in (9, 4) else RunOutcome.SUCCEEDED
        put_run(
            storage,
            tenant_id,
            "policy.sync",
            ago=at - 3 * HOUR,
            outcome=sync_outcome,
            took=timedelta(seconds=40 + 7 * (day % 4)),
            summary="all policy kinds",
        )
        backup_outcome = RunOutcome.PARTIALLY_SUCCEEDED if day == 6 else RunOutcome.SUCCEEDED
        put_run(
            storage,
            tenant_id,
            "backup.capture",
            ago=at - 4 * HOUR,
            outcome=backup_outcome,
            took=timedelta(seconds=95 + 11 * (day % 3)),
            summary="nightly · all policies",
        )
    put_run(
        storage,
        tenant_id,
        "policy.sync",
        ago=5 * HOUR,
        summary="all policy kinds",
        took=timedelta(seconds=44),
    )
    if failing:
        for hours in (3, 1):
            put_run(
                storage,
                tenant_id,
                "policy.sync",
                ago=hours * HOUR,
                outcome=RunOutcome.FAILED,
                summary="settingsCatalog",
                took=timedelta(seconds=12),
            )
        put_run(
            storage,
            tenant_id,
            "restore.execute",
            ago=2 * HOUR,
            outcome=RunOutcome.FAILED,
            summary="from backup 7Q2K9XZD · 4 policies · 2 groups mapped",
            took=timedelta(seconds=31),
            failures=tuple(
                Failure(
                    code,
                    f"{code.replace('_', ' ')}: policy {n}",
                    item=f"policy-{n}",
                    attempt=1,
                    at=datetime.now(UTC) - 2 * HOUR,
                )
                for n, code in enumerate(
                    ["graph_forbidden", "graph_forbidden", "graph_forbidden", "group_unmapped"]
                )
            ),
        )
    for n in range(backlog):
        put_run(
            storage,
            tenant_id,
            "backup.capture",
            ago=timedelta(minutes=12, seconds=n),
            outcome=None,
            summary=f"pre-change snapshot {n + 1} · 12 policies",
            inputs={"label": f"pre-change snapshot {n + 1}"},
        )
