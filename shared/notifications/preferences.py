"""Which channels fire for which event: settings give the default, a user may override."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.config import NOTIFICATION_PREFERENCES_TABLE
from shared.notifications.message import Channel, NotificationEvent

PREFERENCES_ROW = "preferences"


@dataclass(frozen=True)
class ChannelPlan:
    """Channels per event. Unconfigured channels never fire, whatever anybody chose."""

    queued: frozenset[Channel]
    completed: frozenset[Channel]

    def for_event(self, event: NotificationEvent) -> frozenset[Channel]:
        return self.queued if event is NotificationEvent.QUEUED else self.completed

    def to_json(self) -> dict[str, list[str]]:
        return {
            "queued": sorted(c.value for c in self.queued),
            "completed": sorted(c.value for c in self.completed),
        }

    @classmethod
    def parse(cls, queued: str | list[str], completed: str | list[str]) -> ChannelPlan:
        def channels(value: str | list[str]) -> frozenset[Channel]:
            items = value.split(",") if isinstance(value, str) else value
            return frozenset(Channel(item.strip()) for item in items if item.strip())

        return cls(queued=channels(queued), completed=channels(completed))


class PreferenceStore:
    """`NotificationPreferences`: PK user object id, one row per user."""

    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (NOTIFICATION_PREFERENCES_TABLE,)

    def __init__(
        self, table: TableClient, defaults: ChannelPlan, available: frozenset[Channel]
    ) -> None:
        self._table = table
        self.defaults = defaults
        self.available = available

    def stored(self, user_id: str) -> ChannelPlan | None:
        try:
            row = self._table.get_entity(user_id, PREFERENCES_ROW)
        except ResourceNotFoundError:
            return None
        data = json.loads(row.get("Channels") or "{}")
        return ChannelPlan.parse(data.get("queued", []), data.get("completed", []))

    def effective(self, user_id: str) -> ChannelPlan:
        plan = self.stored(user_id) or self.defaults
        return ChannelPlan(plan.queued & self.available, plan.completed & self.available)

    def save(self, user_id: str, plan: ChannelPlan) -> ChannelPlan:
        self._table.upsert_entity(
            {
                "PartitionKey": user_id,
                "RowKey": PREFERENCES_ROW,
                "Channels": json.dumps(plan.to_json()),
            },
            mode=UpdateMode.REPLACE,
        )
        return plan
