"""The monitoring page's summary reads: all my tenants at a glance, and one tenant's glance.

Storage only, never Graph. Each tenant costs one bounded range query (shared.runs.recent);
the overview fans those out over a small thread pool (a bound, so 200 tenants are 200
queries eight at a time, not 200 at once) and keeps each tenant's answer a few seconds,
so a room full of open pages polling costs one read per tenant per few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.data.tables import TableClient

from shared.api.present import ApiResponse, rfc3339
from shared.auth.membership import Membership
from shared.config import RUNS_QUEUE
from shared.monitoring.queue_status import QueueStatusStore
from shared.run_types.cadence import EXPECTED_INTERVALS
from shared.runs.glance import (
    QUEUED_TOO_LONG,
    RecentRuns,
    TenantGlance,
    TenantOverview,
    glance_of,
    overview_of,
)
from shared.runs.recent import read_recent

# The overview looks back a week (the last success of each run type) and reads at most
# this many rows per tenant; the tenant view looks back 14 days for its chart.
OVERVIEW_WINDOW = timedelta(days=7)
OVERVIEW_MAX_ROWS = 500
GLANCE_WINDOW = timedelta(days=14)
GLANCE_MAX_ROWS = 5000
FAN_OUT = 8  # at most this many tenant queries in flight (the HTTP pool keeps 10)
CACHE_SECONDS = 5.0
CACHE_CAPACITY = 5000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """Reads a tenant's recent rows (cached briefly) and the queue's last health."""

    def __init__(
        self,
        runs: TableClient,
        queue_status: QueueStatusStore,
        *,
        clock: Callable[[], datetime] = _utcnow,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._runs = runs
        self._queue_status = queue_status
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

    def overviews(self, tenant_ids: list[str]) -> list[RecentRuns]:
        def one(tenant_id: str) -> RecentRuns:
            return self.recent(tenant_id, "overview", OVERVIEW_WINDOW, OVERVIEW_MAX_ROWS)

        return list(self._pool.map(one, tenant_ids))

    def work_queue(self) -> dict[str, object] | None:
        status = self._queue_status.get(RUNS_QUEUE)
        return status.to_json(self._clock()) if status is not None else None


def _overview_json(member: Membership, item: TenantOverview, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": member.tenant_id,
        "name": member.tenant_name or member.tenant_id,
        "role": member.role.value,
        "running": item.running,
        "queued": item.queued,
        "queued_too_long": item.queued_too_long,
        "oldest_queued_at": rfc3339(item.oldest_queued_at),
        "failed_24h": item.failed_24h,
        "last_success": [
            {"type": t, "at": rfc3339(at), "age_seconds": int((now - at).total_seconds())}
            for t, at in sorted(item.last_success.items())
        ],
        "attention": [
            {"code": a.code, "message": a.message, "type": a.run_type} for a in item.attention
        ],
        "complete": item.complete,
    }


def overview(monitor: Monitor, memberships: list[Membership]) -> ApiResponse:
    """One row per tenant the caller may see, the ones needing attention first."""
    now = monitor.now()
    recents = monitor.overviews([m.tenant_id for m in memberships])
    rows = [
        (m, overview_of(r, now=now, expected_intervals=EXPECTED_INTERVALS))
        for m, r in zip(memberships, recents, strict=True)
    ]
    rows.sort(key=lambda pair: (pair[1].urgency, pair[0].tenant_name.lower(), pair[0].tenant_id))
    return ApiResponse(
        {
            "generated_at": rfc3339(now),
            "window_days": OVERVIEW_WINDOW.days,
            "queued_too_long_seconds": int(QUEUED_TOO_LONG.total_seconds()),
            "expected_intervals": _intervals(EXPECTED_INTERVALS),
            "work_queue": monitor.work_queue(),
            "items": [_overview_json(m, o, now) for m, o in rows],
        }
    )


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
    return ApiResponse(
        {
            "tenant_id": tenant_id,
            "generated_at": rfc3339(now),
            "queued_too_long_seconds": int(QUEUED_TOO_LONG.total_seconds()),
            "work_queue": monitor.work_queue(),
            **_glance_json(glance_of(recent, now=now)),
        }
    )
