"""Queue, poison-queue and timer triggers of the run flow. Thin: parse, call shared/, log."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition.services import services
from shared.config import RUNS_POISON_QUEUE, RUNS_QUEUE, STORAGE_CONNECTION
from shared.telemetry import run_log_context

log = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("run_worker")
@bp.queue_trigger(arg_name="msg", queue_name=RUNS_QUEUE, connection=STORAGE_CONNECTION)
def run_worker(msg: func.QueueMessage) -> None:
    with run_log_context(msg.get_body(), msg.dequeue_count):  # run fields on every log line
        services().worker.process(msg.get_body(), msg.dequeue_count or 1)


@bp.function_name("run_poison")
@bp.queue_trigger(arg_name="msg", queue_name=RUNS_POISON_QUEUE, connection=STORAGE_CONNECTION)
def run_poison(msg: func.QueueMessage) -> None:
    services().worker.process_poison(msg.get_body())


@bp.function_name("run_reaper")
@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False)
def run_reaper(timer: func.TimerRequest) -> None:
    svc = services()
    # Every tenant with runs, not only those with a Tenants row (membership suffices).
    report = svc.runs.reap(svc.runs.tenants_with_runs(t.tenant_id for t in svc.tenants.all()))
    log.info(
        "reaper: %d tenants (%d failed), %d active, %d re-dispatched, %d dispatch lost,"
        " %d stale queued, %d lease expired, %d orphan locks, %d notices swept",
        report.tenants,
        report.tenant_errors,
        report.locks_seen,
        len(report.redispatched),
        len(report.dispatch_lost),
        len(report.stale_queued),
        len(report.lease_expired),
        report.stale_locks_removed,
        report.notices_swept,
    )
