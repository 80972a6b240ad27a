"""Claim-before-send, record-after-send: the ledger that makes external channels exactly once.

`NotificationDeliveries`, PK = run id, RK = `<event>~<channel>`. States:

    (none) --claim--> sending --sent--> sent                      (done)
                         |  --error--> retry --claim--> sending   (next attempt)
                         |  --last error--> failed                (done, shown in-app)
                         '--lease ran out--> unknown              (done, shown in-app)

A claim is a conditional insert or an If-Match update, so one worker sends at a time.
A `sending` row whose lease ran out means its worker died between claiming and
recording: it may have sent. We never send again then (at most once beats twice for a
person's mailbox) and tell the user in-app that delivery is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.config import NOTIFICATION_DELIVERIES_TABLE
from shared.notifications.message import Channel, NotificationEvent
from shared.persistence.tables import RANGE_END, purge_range


class ClaimResult(StrEnum):
    ACQUIRED = "acquired"
    """This worker may send now."""
    DONE = "done"
    """Sent, failed for good, or in doubt: nothing more to do."""
    BUSY = "busy"
    """Another worker holds a live claim and will finish the job."""
    IN_DOUBT = "in_doubt"
    """A previous worker died mid-send; marked unknown by this call."""


@dataclass(frozen=True)
class Claim:
    result: ClaimResult
    attempt: int = 0
    etag: str | None = None
    lease_until: datetime | None = None
    """For BUSY: when the other worker's claim runs out (look again then)."""


class DeliveryLedger:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (NOTIFICATION_DELIVERIES_TABLE,)

    def __init__(self, table: TableClient, *, lease: timedelta) -> None:
        self._table = table
        self._lease = lease

    def purge_run(self, run_id: str) -> int:
        """Delete one run's delivery rows (retention, once the run is gone): its partition."""
        return purge_range(self._table, run_id, ("", RANGE_END))

    @staticmethod
    def _key(run_id: str, event: NotificationEvent, channel: Channel) -> tuple[str, str]:
        return run_id, f"{event.value}~{channel.value}"

    def claim(
        self, run_id: str, event: NotificationEvent, channel: Channel, now: datetime
    ) -> Claim:
        pk, rk = self._key(run_id, event, channel)
        try:
            meta = self._table.create_entity(
                {
                    "PartitionKey": pk,
                    "RowKey": rk,
                    "State": "sending",
                    "Attempts": 1,
                    "LeaseUntil": now + self._lease,
                    "UpdatedAt": now,
                }
            )
            return Claim(ClaimResult.ACQUIRED, 1, meta.get("etag"))
        except ResourceExistsError:
            pass
        try:
            row = self._table.get_entity(pk, rk)
        except ResourceNotFoundError:
            return Claim(ClaimResult.BUSY)  # deleted under us: let the redelivery decide
        state, attempts = row.get("State"), int(row.get("Attempts", 0))
        if state in ("sent", "failed", "unknown"):
            return Claim(ClaimResult.DONE, attempts)
        if state == "sending" and row["LeaseUntil"] > now:
            return Claim(ClaimResult.BUSY, attempts, lease_until=row["LeaseUntil"])
        if state == "sending":
            changed = self._swap(row, {"State": "unknown", "UpdatedAt": now})
            return Claim(ClaimResult.IN_DOUBT if changed else ClaimResult.BUSY, attempts)
        # state == "retry": the previous attempt failed cleanly; take the next one.
        update = {
            "State": "sending",
            "Attempts": attempts + 1,
            "LeaseUntil": now + self._lease,
            "UpdatedAt": now,
        }
        etag = self._swap(row, update)
        if etag is None:
            return Claim(ClaimResult.BUSY, attempts)
        return Claim(ClaimResult.ACQUIRED, attempts + 1, etag)

    def record(
        self,
        run_id: str,
        event: NotificationEvent,
        channel: Channel,
        claim: Claim,
        *,
        state: str,
        now: datetime,
        error: str | None = None,
    ) -> None:
        """After the send: `sent`, `retry` (clean failure) or `failed` (last attempt)."""
        pk, rk = self._key(run_id, event, channel)
        entity: dict[str, Any] = {
            "PartitionKey": pk,
            "RowKey": rk,
            "State": state,
            "UpdatedAt": now,
        }
        if error is not None:
            entity["LastError"] = error[:1000]
        self._table.update_entity(
            entity,
            mode=UpdateMode.MERGE,
            etag=claim.etag,
            match_condition=MatchConditions.IfNotModified,
        )

    def state(self, run_id: str, event: NotificationEvent, channel: Channel) -> str | None:
        try:
            return str(self._table.get_entity(*self._key(run_id, event, channel))["State"])
        except ResourceNotFoundError:
            return None

    def _swap(self, row: Any, changes: dict[str, Any]) -> str | None:
        try:
            meta = self._table.update_entity(
                {"PartitionKey": row["PartitionKey"], "RowKey": row["RowKey"], **changes},
                mode=UpdateMode.MERGE,
                etag=row.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            return None
        return str(meta.get("etag"))
