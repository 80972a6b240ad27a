"""Timer: purge completed runs past RUN_RETENTION_DAYS, tenant by tenant, bounded per call."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition.services import services

log = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("run_retention")
@bp.timer_trigger(arg_name="timer", schedule="0 17 * * * *", run_on_startup=False)
def run_retention(timer: func.TimerRequest) -> None:
    svc = services()
    # Every tenant with runs, not only those with a Tenants row (membership suffices).
    report = svc.retention.purge(svc.runs.tenants_with_runs(t.tenant_id for t in svc.tenants.all()))
    log.info(
        "retention: %d tenants, %d runs deleted in %d transactions, %d skipped (active), "
        "%d skipped (changed), %d notifications, %d deliveries, %d ledger rows, "
        "%d partial backup sets (%d blobs)%s",
        report.tenants,
        report.runs_deleted,
        report.transactions,
        report.skipped_locked,
        report.skipped_changed,
        report.notifications_deleted,
        report.deliveries_deleted,
        report.ledger_rows_deleted,
        report.backup_sets_deleted,
        report.blobs_deleted,
        "; capped, more next time" if report.capped else "",
    )
