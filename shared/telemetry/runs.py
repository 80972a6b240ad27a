"""Run metrics: runs started and finished (by type and outcome), as RunEvents."""

from __future__ import annotations

from opentelemetry import metrics

from shared.runs.events import NoEvents, RunEvents
from shared.runs.model import Run

meter = metrics.get_meter("intune_operation_runs")

runs_started = meter.create_counter(
    "operation_runs.started", unit="{run}", description="Runs created and queued"
)
runs_finished = meter.create_counter(
    "operation_runs.finished", unit="{run}", description="Runs that reached an outcome"
)
run_duration = meter.create_histogram(
    "operation_runs.duration", unit="s", description="Created to completed, per finished run"
)


class RunMetricsEvents:
    """Counts runs, then hands the event on (e.g. to the notifications emitter)."""

    def __init__(self, inner: RunEvents | None = None) -> None:
        self._inner: RunEvents = inner or NoEvents()

    def run_queued(self, run: Run) -> None:
        runs_started.add(1, {"run.type": run.type})
        self._inner.run_queued(run)

    def run_finished(self, run: Run) -> None:
        attributes = {"run.type": run.type, "run.outcome": run.outcome.value}
        runs_finished.add(1, attributes)
        if run.completed_at is not None:
            seconds = (run.completed_at - run.created_at).total_seconds()
            run_duration.record(max(0.0, seconds), attributes)
        self._inner.run_finished(run)
