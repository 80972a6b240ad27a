"""The monitoring page's summary reads: all my tenants at a glance, and one tenant's glance.

Storage only, never Graph. The overview reads the caller's tenants' summary rows in one
partition query (shared.runs.summaries, kept current by run events and a timer sweep) and
evaluates them at the request's time; a tenant whose row is missing or too old is
recomputed here, over a small thread pool (a bound: 200 tenants are 200 range queries
eight at a time, not 200 at once). A tenant's glance reads its own partition (one bounded
range query, shared.runs.recent), kept a few seconds so open pages polling cost one read
per tenant per few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.data.tables import TableClient

from shared.api import response_models
from shared.api.present import ApiResponse
from shared.auth.membership import Membership
from shared.config import RUNS_QUEUE
from shared.monitoring.queue_status import QueueStatusStore
from shared.run_types.cadence import EXPECTED_INTERVALS
from shared.runs.digest import Digest, evaluate
from shared.runs.glance import (
    QUEUED_TOO_LONG,
    RecentRuns,
    TenantGlance,
    TenantOverview,
    glance_of,
    overview_of,
)
from shared.runs.recent import read_recent
from shared.runs.summaries import OVERVIEW_WINDOW, STALE_AFTER, TenantSummaries

# The tenant view looks back 14 days for its chart.
GLANCE_WINDOW = timedelta(days=14)
GLANCE_MAX_ROWS = 5000
FAN_OUT = 8  # at most this many tenant recomputes in flight (the HTTP pool keeps 10)
CACHE_SECONDS = 5.0
CACHE_CAPACITY = 5000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """Reads the overview summaries, a tenant's recent rows (cached briefly) and the
    queue's last health."""

    def __init__(
        self,
        runs: TableClient,
        queue_status: QueueStatusStore,
        summaries: TenantSummaries,
        *,
        clock: Callable[[], datetime] = _utcnow,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._runs = runs
        self._queue_status = queue_status
        self._summaries = summaries
        self._clock = clock
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, RecentRuns]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(FAN_OUT, thread_name_prefix="monitor")

    def now(self) -> datetime:
        return self._clock()

    def recent(self, tenant_id: str, kind: str, window: timedelta, max_rows: int) -> RecentRuns:
        key = (tenant_id, kind)
        if self.cache_seconds > 0:
            with self._lock:
                hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        value = read_recent(self._runs, tenant_id, since=self._clock() - window, max_rows=max_rows)
        if self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) >= CACHE_CAPACITY:
                    self._cache.clear()  # crude but bounded; entries live seconds anyway
                self._cache[key] = (time.monotonic() + self.cache_seconds, value)
        return value

    def summaries(self, tenant_ids: list[str]) -> list[Digest]:
        """Each tenant's stored digest; one missing (a new tenant or deployment, a row the
        sweep removed) or older than STALE_AFTER (events and sweep both lost) is
        recomputed now, so no row answers from more than STALE_AFTER ago."""
        now = self._clock()
        usable = {
            tenant_id: digest
            for tenant_id, digest in self._summaries.read(tenant_ids).items()
            if now - digest.as_of <= STALE_AFTER
        }
        missing = [t for t in dict.fromkeys(tenant_ids) if t not in usable]
        usable.update(zip(missing, self._pool.map(self._summaries.recompute, missing), strict=True))
        return [usable[t] for t in tenant_ids]

    def work_queue(self) -> dict[str, object] | None:
        status = self._queue_status.get(RUNS_QUEUE)
        return status.view(self._clock()) if status is not None else None


def _overview_json(
    member: Membership, item: TenantOverview, as_of: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "tenant_id": member.tenant_id,
        "name": member.tenant_name or member.tenant_id,
        "role": member.role.value,
        "running": item.running,
        "queued": item.queued,
        "queued_too_long": item.queued_too_long,
        "oldest_queued_at": item.oldest_queued_at,
        "failed_24h": item.failed_24h,
        "last_success": [
            {"type": t, "at": at, "age_seconds": int((now - at).total_seconds())}
            for t, at in sorted(item.last_success.items())
        ],
        "attention": [
            {"code": a.code, "message": a.message, "type": a.run_type} for a in item.attention
        ],
        "complete": item.complete,
        "as_of": as_of,
    }


def overview(monitor: Monitor, memberships: list[Membership]) -> ApiResponse:
    """One row per tenant the caller may see, the ones needing attention first."""
    now = monitor.now()
    digests = monitor.summaries([m.tenant_id for m in memberships])
    rows = [
        (
            m,
            overview_of(
                evaluate(d, now=now, window=OVERVIEW_WINDOW),
                now=now,
                expected_intervals=EXPECTED_INTERVALS,
            ),
            d.as_of,
        )
        for m, d in zip(memberships, digests, strict=True)
    ]
    rows.sort(key=lambda row: (row[1].urgency, row[0].tenant_name.lower(), row[0].tenant_id))
    body = {
        "generated_at": now,
        "as_of": min((d.as_of for d in digests), default=None),
        "window_days": OVERVIEW_WINDOW.days,
        "queued_too_long_seconds": int(QUEUED_TOO_LONG.total_seconds()),
        "expected_intervals": _intervals(EXPECTED_INTERVALS),
        "work_queue": monitor.work_queue(),
        "items": [_overview_json(m, o, as_of, now) for m, o, as_of in rows],
    }
    return ApiResponse(response_models.Overview.model_validate(body))


def _intervals(intervals: Mapping[str, timedelta]) -> dict[str, int]:
    return {t: int(i.total_seconds()) for t, i in sorted(intervals.items())}


def _glance_json(glance: TenantGlance) -> dict[str, Any]:
    return {
        "now": glance.now_by_status,
        "last_24h": glance.last_24h,
        "last_7d": glance.last_7d,
        "daily": [{"day": d.day, "outcomes": d.outcomes} for d in glance.daily],
        "durations": [
            {
                "type": d.type,
                "count": d.count,
                "p50_seconds": round(d.p50_seconds, 1),
                "p95_seconds": round(d.p95_seconds, 1),
            }
            for d in glance.durations
        ],
        "queued_too_long": glance.queued_too_long,
        "complete": glance.complete,
    }


def tenant_glance(monitor: Monitor, tenant_id: str) -> ApiResponse:
    now = monitor.now()
    recent = monitor.recent(tenant_id, "glance", GLANCE_WINDOW, GLANCE_MAX_ROWS)
    body = {
        "tenant_id": tenant_id,
        "generated_at": now,
        "queued_too_long_seconds": int(QUEUED_TOO_LONG.total_seconds()),
        "work_queue": monitor.work_queue(),
        **_glance_json(glance_of(recent, now=now)),
    }
    return ApiResponse(response_models.TenantGlance.model_validate(body))
