"""What the monitoring page shows at a glance, computed from a tenant's recent run rows.

Pure: the rows come from shared.runs.recent (one bounded range query per tenant), the
clock and the thresholds from the caller. Two shapes: a tenant's row on the all-tenants
overview (what needs attention now) and one tenant's glance (counts, a 14-day chart,
durations per run type).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.runs.model import TERMINAL_OUTCOMES, RunOutcome, RunStatus

# A run queued this long is waiting behind a backlog (or a stopped worker): the page
# highlights it and the overview puts its tenant first.
QUEUED_TOO_LONG = timedelta(minutes=10)
CHART_DAYS = 14
FINAL_OUTCOMES = tuple(o for o in RunOutcome if o in TERMINAL_OUTCOMES)


@dataclass(frozen=True)
class RunFacts:
    """The few columns of a run row the glance needs (never inputs, failures or results)."""

    run_id: str
    type: str
    status: RunStatus
    outcome: RunOutcome
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class RecentRuns:
    """A tenant's runs created since `since`, newest first, plus its active-lock count.

    `complete` is False when the read stopped at its row bound: counts are then lower
    bounds, and the page says so."""

    tenant_id: str
    since: datetime
    runs: tuple[RunFacts, ...]
    active_locks: int
    complete: bool = True


@dataclass(frozen=True)
class Attention:
    code: str  # failed_recently | queued_too_long | overdue
    message: str
    run_type: str | None = None


@dataclass(frozen=True)
class TenantOverview:
    tenant_id: str
    running: int
    queued: int
    queued_too_long: int
    oldest_queued_at: datetime | None
    failed_24h: int
    last_success: dict[str, datetime]
    attention: tuple[Attention, ...]
    complete: bool

    @property
    def urgency(self) -> tuple[int, int, int, int]:
        """Sort key, most urgent first when sorted ascending."""
        overdue = sum(1 for a in self.attention if a.code == "overdue")
        return (-self.failed_24h, -self.queued_too_long, -overdue, -(self.running + self.queued))


def _active_counts(recent: RecentRuns) -> tuple[int, int]:
    running = sum(1 for r in recent.runs if r.status is RunStatus.RUNNING)
    queued = sum(1 for r in recent.runs if r.status is RunStatus.QUEUED)
    # A lock whose run is older than the window still means an active run: count it as
    # queued or running by what is unaccounted for (rare: the reaper ends old ones).
    return running, queued + max(0, recent.active_locks - running - queued)


def _age(now: datetime, then: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def overview_of(
    recent: RecentRuns,
    *,
    now: datetime,
    expected_intervals: Mapping[str, timedelta],
    queued_too_long: timedelta = QUEUED_TOO_LONG,
) -> TenantOverview:
    running, queued = _active_counts(recent)
    day_ago = now - timedelta(hours=24)
    failed = [
        r
        for r in recent.runs
        if r.outcome is RunOutcome.FAILED and (r.completed_at or r.created_at) >= day_ago
    ]
    waiting = [r for r in recent.runs if r.status is RunStatus.QUEUED]
    too_long = [r for r in waiting if now - r.created_at >= queued_too_long]
    last_success: dict[str, datetime] = {}
    for run in recent.runs:  # newest first: the first success per type is the last one
        if run.outcome is RunOutcome.SUCCEEDED and run.type not in last_success:
            last_success[run.type] = run.completed_at or run.created_at
    attention: list[Attention] = []
    if failed:
        attention.append(Attention("failed_recently", f"{len(failed)} failed in the last 24 h"))
    if too_long:
        oldest = min(r.created_at for r in too_long)
        attention.append(
            Attention(
                "queued_too_long",
                f"{len(too_long)} queued for over {_age(now, now - queued_too_long)} "
                f"(oldest {_age(now, oldest)})",
            )
        )
    # Only types the tenant uses (ran in the window): a tenant that never backs up is not
    # "overdue" for backups, one whose backups keep failing is.
    seen = {r.type for r in recent.runs}
    for run_type, interval in sorted(expected_intervals.items()):
        last = last_success.get(run_type)
        if run_type in seen and (last is None or now - last > interval):
            since = f"last {_age(now, last)} ago" if last else "none in the window read"
            within = _age(now, now - interval)
            message = f"{run_type}: no success within {within} ({since})"
            attention.append(Attention("overdue", message, run_type))
    return TenantOverview(
        tenant_id=recent.tenant_id,
        running=running,
        queued=queued,
        queued_too_long=len(too_long),
        oldest_queued_at=min((r.created_at for r in waiting), default=None),
        failed_24h=len(failed),
        last_success=last_success,
        attention=tuple(attention),
        complete=recent.complete,
    )


@dataclass(frozen=True)
class DayBar:
    day: str  # YYYY-MM-DD (UTC)
    outcomes: dict[str, int]


@dataclass(frozen=True)
class Durations:
    type: str
    count: int
    p50_seconds: float
    p95_seconds: float


@dataclass(frozen=True)
class TenantGlance:
    tenant_id: str
    now_by_status: dict[str, int]
    last_24h: dict[str, int]
    last_7d: dict[str, int]
    daily: tuple[DayBar, ...]
    durations: tuple[Durations, ...]
    queued_too_long: int
    complete: bool = True


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (no interpolation: a real duration)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _outcomes(runs: Iterable[RunFacts]) -> dict[str, int]:
    counts = Counter(r.outcome.value for r in runs if r.outcome in TERMINAL_OUTCOMES)
    return {o.value: counts.get(o.value, 0) for o in FINAL_OUTCOMES}


def glance_of(
    recent: RecentRuns, *, now: datetime, queued_too_long: timedelta = QUEUED_TOO_LONG
) -> TenantGlance:
    running, queued = _active_counts(recent)
    finished = [r for r in recent.runs if r.status is RunStatus.COMPLETED]

    def ended(run: RunFacts) -> datetime:
        return run.completed_at or run.created_at

    today = now.date()
    days = [today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    by_day: dict[str, list[RunFacts]] = {d.isoformat(): [] for d in days}
    for run in finished:
        key = ended(run).date().isoformat()
        if key in by_day:
            by_day[key].append(run)
    spans: dict[str, list[float]] = {}
    for run in finished:
        if run.started_at and run.completed_at:
            seconds = max(0.0, (run.completed_at - run.started_at).total_seconds())
            spans.setdefault(run.type, []).append(seconds)
    durations = tuple(
        Durations(t, len(v), percentile(sorted(v), 0.5), percentile(sorted(v), 0.95))
        for t, v in sorted(spans.items())
    )
    return TenantGlance(
        tenant_id=recent.tenant_id,
        now_by_status={"queued": queued, "running": running},
        last_24h=_outcomes(r for r in finished if ended(r) >= now - timedelta(hours=24)),
        last_7d=_outcomes(r for r in finished if ended(r) >= now - timedelta(days=7)),
        daily=tuple(DayBar(day, _outcomes(runs)) for day, runs in by_day.items()),
        durations=durations,
        queued_too_long=sum(
            1
            for r in recent.runs
            if r.status is RunStatus.QUEUED and now - r.created_at >= queued_too_long
        ),
        complete=recent.complete,
    )
