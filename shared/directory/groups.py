"""`EntraGroups`: the per-tenant cache of directory groups, and its sync state.

PartitionKey = tenant id. A group row's RowKey is the group's object id (a lower-case
GUID); the one sync-state row uses a RowKey ("~sync") that sorts after every GUID, so
"all groups" is a single range query that never includes it.

A sync stamps every group it sees with its sync id, then removes the rows it did not
stamp: groups deleted from the directory leave the cache (mark and sweep, all within
the tenant's partition).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from azure.data.tables import TableClient

from shared.config import ENTRA_GROUPS_TABLE
from shared.persistence.tables import (
    delete_rows,
    fit_text,
    get_row,
    query_range,
    upsert_rows,
)

SYNC_STATE_KEY = "~sync"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
GROUP_RANGE = ("0", "~")  # GUIDs are hex digits and dashes


@dataclass(frozen=True)
class DirectoryGroup:
    id: str
    display_name: str
    description: str = ""
    mail_enabled: bool = False
    security_enabled: bool = False


@dataclass(frozen=True)
class GroupCacheState:
    synced_at: datetime
    group_count: int
    run_id: str


class EntraGroupsStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (ENTRA_GROUPS_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table

    # -- the sync ----------------------------------------------------------------------------

    def save_groups(
        self, tenant_id: str, groups: Sequence[DirectoryGroup], sync_id: str, seen_at: datetime
    ) -> int:
        rows = [
            {
                "PartitionKey": tenant_id,
                "RowKey": group.id.lower(),
                "DisplayName": fit_text(group.display_name, 256),
                "Description": fit_text(group.description, 1024),
                "MailEnabled": group.mail_enabled,
                "SecurityEnabled": group.security_enabled,
                "SyncId": sync_id,
                "SeenAt": seen_at,
            }
            for group in groups
        ]
        return upsert_rows(self._table, rows)

    def remove_unseen(self, tenant_id: str, sync_id: str) -> int:
        """Delete group rows the sync `sync_id` did not stamp (gone from the directory)."""
        stale = [
            row["RowKey"]
            for row in query_range(self._table, tenant_id, GROUP_RANGE, ("RowKey", "SyncId"))
            if row.get("SyncId") != sync_id
        ]
        return delete_rows(self._table, tenant_id, stale)

    def mark_synced(self, tenant_id: str, state: GroupCacheState) -> None:
        upsert_rows(
            self._table,
            [
                {
                    "PartitionKey": tenant_id,
                    "RowKey": SYNC_STATE_KEY,
                    "SyncedAt": state.synced_at,
                    "GroupCount": state.group_count,
                    "RunId": state.run_id,
                }
            ],
        )

    # -- reads (no Graph: the restore group mapping and the portal use these) ----------------

    def sync_state(self, tenant_id: str) -> GroupCacheState | None:
        row = get_row(self._table, tenant_id, SYNC_STATE_KEY)
        if row is None:
            return None
        return GroupCacheState(
            synced_at=row["SyncedAt"], group_count=int(row["GroupCount"]), run_id=row["RunId"]
        )

    def groups(self, tenant_id: str) -> Iterator[DirectoryGroup]:
        for row in query_range(self._table, tenant_id, GROUP_RANGE):
            yield _group(row)

    def find(self, tenant_id: str, group_ids: Iterable[str]) -> dict[str, DirectoryGroup]:
        """The cached groups among `group_ids` (point reads; missing ones are left out)."""
        found: dict[str, DirectoryGroup] = {}
        # Ids may come from a request: only a GUID can be a group's row key.
        for group_id in {g.lower() for g in group_ids if _GUID.fullmatch(g)}:
            row = get_row(self._table, tenant_id, group_id)
            if row is not None:
                found[group_id] = _group(row)
        return found


def _group(row: dict[str, object]) -> DirectoryGroup:
    return DirectoryGroup(
        id=str(row["RowKey"]),
        display_name=str(row.get("DisplayName", "")),
        description=str(row.get("Description", "")),
        mail_enabled=bool(row.get("MailEnabled", False)),
        security_enabled=bool(row.get("SecurityEnabled", False)),
    )
