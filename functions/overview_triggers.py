"""Timer: keep the overview summaries current when no run event did (a lost event), and
drop the rows of tenants no longer known. Thin: shared.runs.summaries does the work."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition.services import services

log = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("overview_sweep")
@bp.timer_trigger(arg_name="timer", schedule="45 */5 * * * *", run_on_startup=False)
def overview_sweep(timer: func.TimerRequest) -> None:
    svc = services()
    # Every tenant with runs, not only those with a Tenants row (membership suffices).
    report = svc.summaries.sweep(svc.runs.tenants_with_runs(t.tenant_id for t in svc.tenants.all()))
    log.info(
        "overview sweep: %d rows, %d recomputed (%d failed), %d orphan rows removed",
        report.rows,
        report.recomputed,
        report.failed,
        report.removed,
    )
