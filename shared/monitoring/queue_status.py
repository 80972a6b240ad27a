"""The work queue's last measured health, kept in a table row the monitoring page reads.

The queue-health timer measures depth and the oldest visible message's age every minute
(shared.telemetry.queues); it also writes them here, one row per queue in one partition,
so the page can say "the queue is behind" without touching the queue or Graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.config import QUEUE_HEALTH_TABLE
from shared.errors import StorageUnavailable
from shared.runs.rows import parse_datetime

PARTITION = "queues"
# Behind: the oldest waiting message has waited this long. A measurement older than
# STALE_AFTER says nothing current (the timer runs every minute).
BEHIND_AFTER = timedelta(minutes=2)
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class QueueStatus:
    queue: str
    depth: int
    oldest_age_seconds: float
    poison: int
    measured_at: datetime

    def is_behind(self) -> bool:
        return self.depth > 0 and self.oldest_age_seconds >= BEHIND_AFTER.total_seconds()

    def is_stale(self, now: datetime) -> bool:
        return now - self.measured_at > STALE_AFTER

    def view(self, now: datetime) -> dict[str, object]:
        """The work-queue fields of a glance or the overview (the response model writes
        the time)."""
        return {
            "queue": self.queue,
            "depth": self.depth,
            "oldest_age_seconds": round(self.oldest_age_seconds),
            "poison": self.poison,
            "measured_at": self.measured_at,
            "behind": self.is_behind(),
            "stale": self.is_stale(now),
        }


class QueueStatusStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (QUEUE_HEALTH_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def save(self, statuses: Iterable[QueueStatus]) -> None:
        """Last write wins on purpose: each row is a measurement, not a state to swap."""
        for status in statuses:
            self._table.upsert_entity(
                {
                    "PartitionKey": PARTITION,
                    "RowKey": status.queue,
                    "Depth": status.depth,
                    "OldestAgeSeconds": float(status.oldest_age_seconds),
                    "Poison": status.poison,
                    "MeasuredAt": status.measured_at,
                },
                mode=UpdateMode.REPLACE,
            )

    def get(self, queue: str) -> QueueStatus | None:
        try:
            row = self._table.get_entity(PARTITION, queue)
        except ResourceNotFoundError:
            return None
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            status = getattr(error, "status_code", None) or error.__class__.__name__
            raise StorageUnavailable(f"table storage failed ({status})") from error
        measured = parse_datetime(row["MeasuredAt"])
        assert measured is not None  # noqa: S101 - written on every row
        return QueueStatus(
            queue=row["RowKey"],
            depth=int(row.get("Depth", 0)),
            oldest_age_seconds=float(row.get("OldestAgeSeconds", 0.0)),
            poison=int(row.get("Poison", 0)),
            measured_at=measured,
        )
