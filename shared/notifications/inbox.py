"""In-app notifications: `Notifications` table, PK = the user's object id, newest first.

The RowKey is derived from the run and the event, so writing the same notification twice
is a no-op: the in-app channel is exactly once by construction.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.config import NOTIFICATIONS_TABLE
from shared.errors import InvalidRequest, NotFound
from shared.notifications.message import NotificationEvent
from shared.persistence.tables import prefix_range, purge_range, storage_errors
from shared.runs.identity import is_run_id, mirrored_run_id

MAX_PROBLEMS = 10
_READ, _WRITE = "reading Notifications", "writing Notifications"


@dataclass(frozen=True)
class Notification:
    id: str
    user_id: str
    run_id: str
    tenant_id: str
    event: NotificationEvent
    outcome: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None = None
    delivery_problems: tuple[str, ...] = ()


def notification_id(run_id: str, event: NotificationEvent) -> str:
    return f"{run_id}.{event.value}"


# A cursor is a row key: a mirrored run id (26), "~" and an event name. The API's query model
# uses the same bound, so an over-long cursor is refused in one place with one answer.
MAX_CURSOR_LENGTH = 80


def _row_key(notification_id_: str) -> str:
    run_id, _, event = notification_id_.partition(".")
    if not is_run_id(run_id) or event not in {e.value for e in NotificationEvent}:
        raise NotFound("no such notification")
    # Newest run first; "completed" sorts before "queued" within a run, as it is newer.
    return f"{_run_prefix(run_id)}{event}"


def _run_prefix(run_id: str) -> str:
    """RowKeys are `<mirrored run id>~<event>`: one range per run."""
    return f"{mirrored_run_id(run_id)}~"


def _from_entity(entity: Any) -> Notification:
    return Notification(
        id=entity["NotificationId"],
        user_id=entity["PartitionKey"],
        run_id=entity["RunId"],
        tenant_id=entity["TenantId"],
        event=NotificationEvent(entity["Event"]),
        outcome=entity.get("Outcome", ""),
        title=entity.get("Title", ""),
        body=entity.get("Body", ""),
        link=entity.get("Link", ""),
        created_at=entity["CreatedAt"],
        read_at=entity.get("ReadAt"),
        delivery_problems=tuple(json.loads(entity.get("DeliveryProblems") or "[]")),
    )


class Inbox:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (NOTIFICATIONS_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def purge_run(self, user_id: str, run_id: str) -> int:
        """Delete the user's notifications of one run (retention); returns how many."""
        return purge_range(self._table, user_id, prefix_range(_run_prefix(run_id)))

    def add(self, notification: Notification) -> bool:
        """Write it unless it exists. True if this call created it."""
        entity = {
            "PartitionKey": notification.user_id,
            "RowKey": _row_key(notification.id),
            "NotificationId": notification.id,
            "RunId": notification.run_id,
            "TenantId": notification.tenant_id,
            "Event": notification.event.value,
            "Outcome": notification.outcome,
            "Title": notification.title[:500],
            "Body": notification.body[:2000],
            "Link": notification.link,
            "CreatedAt": notification.created_at,
            "Unread": True,
            "DeliveryProblems": "[]",
        }
        try:
            with storage_errors(_WRITE):
                self._table.create_entity(entity)
        except ResourceExistsError:
            return False
        return True

    def get(self, user_id: str, notification_id_: str) -> Notification:
        try:
            with storage_errors(_READ):
                entity = self._table.get_entity(user_id, _row_key(notification_id_))
        except ResourceNotFoundError:
            raise NotFound("no such notification") from None
        return _from_entity(entity)

    def list(
        self, user_id: str, *, unread_only: bool, limit: int, after: str | None = None
    ) -> tuple[list[Notification], str | None]:
        clauses = ["PartitionKey eq @pk"]
        parameters: dict[str, Any] = {"pk": user_id}
        if after:
            if len(after) > MAX_CURSOR_LENGTH or "~" not in after:
                raise InvalidRequest("cursor is not valid", code="invalid_cursor")
            clauses.append("RowKey gt @after")
            parameters["after"] = after
        if unread_only:
            clauses.append("Unread eq @unread")
            parameters["unread"] = True
        with storage_errors(_READ):
            rows = list(
                itertools.islice(
                    self._table.query_entities(
                        " and ".join(clauses), parameters=parameters, results_per_page=limit + 1
                    ),
                    limit + 1,
                )
            )
        next_after = rows[limit - 1]["RowKey"] if len(rows) > limit else None
        return [_from_entity(r) for r in rows[:limit]], next_after

    def mark_read(self, user_id: str, notification_id_: str, now: datetime) -> Notification:
        for _ in range(5):
            try:
                with storage_errors(_READ):
                    current = self._table.get_entity(user_id, _row_key(notification_id_))
            except ResourceNotFoundError:
                raise NotFound("no such notification") from None
            notification = _from_entity(current)
            if notification.read_at is not None:
                return notification
            try:
                with storage_errors(_WRITE):
                    self._table.update_entity(
                        {
                            "PartitionKey": user_id,
                            "RowKey": current["RowKey"],
                            "ReadAt": now,
                            "Unread": False,
                        },
                        mode=UpdateMode.MERGE,
                        etag=current.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
            except ResourceModifiedError:
                continue
            return dataclasses.replace(notification, read_at=now)
        raise NotFound("no such notification")  # pragma: no cover - five lost swaps in a row

    def note_problem(self, user_id: str, notification_id_: str, problem: str) -> None:
        """Record that an external channel could not deliver: the user sees it in-app."""
        for _ in range(5):
            try:
                with storage_errors(_READ):
                    current = self._table.get_entity(user_id, _row_key(notification_id_))
            except ResourceNotFoundError:
                return
            problems = json.loads(current.get("DeliveryProblems") or "[]")
            if problem in problems or len(problems) >= MAX_PROBLEMS:
                return
            try:
                with storage_errors(_WRITE):
                    self._table.update_entity(
                        {
                            "PartitionKey": user_id,
                            "RowKey": current["RowKey"],
                            "DeliveryProblems": json.dumps([*problems, problem[:500]]),
                        },
                        mode=UpdateMode.MERGE,
                        etag=current.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
            except ResourceModifiedError:
                continue
            return
