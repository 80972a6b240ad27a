"""Runs written straight into the run table for the monitoring tests: finished, failed or
long-queued runs at chosen times, through the real store and the pure lifecycle model
(what a worker would have written), without waiting for a worker or a clock."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from shared.config import RUNS_TABLE, TENANT_SUMMARIES_TABLE
from shared.persistence.clients import StorageClients
from shared.runs import model
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Failure, Initiator, Run, RunOutcome
from shared.runs.store import RunStore
from shared.runs.summaries import TenantSummaries

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
    summarise: bool = True,
) -> Run:
    """A run created `ago` ago: finished with `outcome` after `took`, or still queued
    (outcome None). Its tenant's overview summary is then recomputed, as the run events
    of the real flow would have it (`summarise=False`: as if those events were lost)."""
    run = _write_run(
        storage, tenant_id, run_type, ago=ago, outcome=outcome, took=took, summary=summary,
        inputs=inputs, failures=failures, initiator=initiator,
    )  # fmt: skip
    if summarise:
        recompute_summary(storage, tenant_id)
    return run


def recompute_summary(storage: StorageClients, tenant_id: str) -> None:
    """What the run events do after a run changes: recompute the tenant's summary row."""
    summaries = TenantSummaries(
        storage.table(RUNS_TABLE),
        storage.table(TENANT_SUMMARIES_TABLE),
        clock=lambda: datetime.now(UTC),
    )
    summaries.recompute(tenant_id)


def _write_run(
    storage: StorageClients,
    tenant_id: str,
    run_type: str,
    *,
    ago: timedelta,
    outcome: RunOutcome | None,
    took: timedelta,
    summary: str,
    inputs: dict[str, object] | None,
    failures: tuple[Failure, ...],
    initiator: Initiator,
) -> Run:
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
    put = functools.partial(put_run, summarise=False)  # one recompute at the end
    for day in range(14, 0, -1):
        at = day * DAY
        put(
            storage,
            tenant_id,
            "directory_groups.sync",
            ago=at - 2 * HOUR,
            took=timedelta(seconds=8 + day % 5),
            summary="all groups",
        )
        sync_outcome = RunOutcome.FAILED if day in (9, 4) else RunOutcome.SUCCEEDED
        put(
            storage,
            tenant_id,
            "policy.sync",
            ago=at - 3 * HOUR,
            outcome=sync_outcome,
            took=timedelta(seconds=40 + 7 * (day % 4)),
            summary="all policy kinds",
        )
        backup_outcome = RunOutcome.PARTIALLY_SUCCEEDED if day == 6 else RunOutcome.SUCCEEDED
        put(
            storage,
            tenant_id,
            "backup.capture",
            ago=at - 4 * HOUR,
            outcome=backup_outcome,
            took=timedelta(seconds=95 + 11 * (day % 3)),
            summary="nightly · all policies",
        )
    put(
        storage,
        tenant_id,
        "policy.sync",
        ago=5 * HOUR,
        summary="all policy kinds",
        took=timedelta(seconds=44),
    )
    if failing:
        for hours in (3, 1):
            put(
                storage,
                tenant_id,
                "policy.sync",
                ago=hours * HOUR,
                outcome=RunOutcome.FAILED,
                summary="settingsCatalog",
                took=timedelta(seconds=12),
            )
        put(
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
        put(
            storage,
            tenant_id,
            "backup.capture",
            ago=timedelta(minutes=12, seconds=n),
            outcome=None,
            summary=f"pre-change snapshot {n + 1} · 12 policies",
            inputs={"label": f"pre-change snapshot {n + 1}"},
        )
    recompute_summary(storage, tenant_id)
