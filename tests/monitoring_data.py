"""Runs written straight into the run table for the monitoring tests: finished, failed or
long-queued runs at chosen times, through the real store and the pure lifecycle model
(what a worker would have written), without waiting for a worker or a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.config import RUNS_TABLE
from shared.runs import model
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Failure, Initiator, OperationRun, RunOutcome
from shared.runs.store import RunStore
from shared.storage import StorageClients

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
) -> OperationRun:
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
    failed = total if outcome is RunOutcome.FAILED else 0
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
