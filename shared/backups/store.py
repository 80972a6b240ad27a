"""`BackupSets`: a header row per backup set and one row per captured policy.

PartitionKey = tenant id. RowKeys: `set~<backup set id>` for the header and
`item~<backup set id>~<kind>~<policy id>` for items, so a tenant's sets and one set's
items are each a single range query. Each item's full policy JSON with its assignments
is a blob, `<tenant>/<backup set id>/<kind>/<policy id>.json`, whose SHA-256 the item row
records.

A set is written by one capture run only (its id is that run's id) while its status is
`capturing`; once `complete` it is immutable: nothing here writes to it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.data.tables import TableClient, UpdateMode

from shared.errors import AppError, ConcurrentUpdate
from shared.persistence.blobs import JsonBlobs
from shared.persistence.tables import (
    etag_of,
    fit_text,
    get_row,
    json_property,
    prefix_range,
    query_range,
    storage_errors,
    upsert_rows,
)
from shared.policies.snapshot import PolicySnapshot


class BackupStatus(StrEnum):
    CAPTURING = "capturing"
    """Items are being added by the capture run that owns the set."""
    COMPLETE = "complete"
    """Sealed: immutable, and the only state a restore accepts."""


class BackupSetSealed(AppError):
    """A write to a backup set that is already complete."""

    code = "backup_set_sealed"


@dataclass(frozen=True)
class BackupSet:
    id: str
    tenant_id: str
    label: str
    status: BackupStatus
    run_id: str
    created_at: datetime
    completed_at: datetime | None = None
    item_count: int = 0
    etag: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.status is BackupStatus.COMPLETE


@dataclass(frozen=True)
class BackupItem:
    backup_set_id: str
    kind: str
    policy_id: str
    display_name: str
    odata_type: str
    assignment_count: int
    group_ids: tuple[str, ...]  # every group the assignments name (include and exclude)
    blob: str
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.kind}~{self.policy_id}"

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.policy_id}"


def _header_key(set_id: str) -> str:
    return f"set~{set_id}"


def _item_prefix(set_id: str) -> str:
    return f"item~{set_id}~"


class BackupStore:
    def __init__(self, table: TableClient, blobs: JsonBlobs) -> None:
        self._table = table
        self._blobs = blobs

    # -- capture ------------------------------------------------------------------------------

    def begin(
        self, tenant_id: str, set_id: str, *, label: str, run_id: str, now: datetime
    ) -> BackupSet:
        """The set's header, created on first call; a re-run gets the existing one."""
        entity = {
            "PartitionKey": tenant_id,
            "RowKey": _header_key(set_id),
            "Label": fit_text(label, 200),
            "Status": BackupStatus.CAPTURING.value,
            "RunId": run_id,
            "CreatedAt": now,
            "ItemCount": 0,
        }
        with storage_errors("creating a backup set"):
            try:
                self._table.create_entity(entity)
            except ResourceExistsError:
                pass
        found = self.get(tenant_id, set_id)
        if found is None:  # pragma: no cover - created or found just above
            raise ConcurrentUpdate(f"backup set {set_id} vanished while being created")
        return found

    def captured_keys(self, tenant_id: str, set_id: str) -> set[str]:
        """`<kind>~<policy id>` of the items already in the set (from an earlier attempt)."""
        prefix = _item_prefix(set_id)
        rows = query_range(self._table, tenant_id, prefix_range(prefix), ("RowKey",))
        return {row["RowKey"][len(prefix) :] for row in rows}

    def add_item(self, backup: BackupSet, snapshot: PolicySnapshot, now: datetime) -> None:
        """Blob first, row second: a row never points at a payload that is not there."""
        if backup.is_complete:
            raise BackupSetSealed(f"backup set {backup.id} is complete and immutable")
        blob = f"{backup.tenant_id}/{backup.id}/{snapshot.kind.name}/{snapshot.id}.json"
        digest = self._blobs.put(blob, snapshot.document())
        groups = snapshot.group_ids()
        row = {
            "PartitionKey": backup.tenant_id,
            "RowKey": _item_prefix(backup.id) + snapshot.key,
            "Kind": snapshot.kind.name,
            "PolicyId": snapshot.id,
            "DisplayName": fit_text(snapshot.display_name, 512),
            "ODataType": fit_text(snapshot.odata_type, 256),
            "AssignmentCount": len(snapshot.assignments),
            # The DB-only group mapping reads these; the blob always has them all.
            "GroupIds": json_property(groups) or json.dumps(groups[:500]),
            "Blob": blob,
            "Sha256": digest,
            "CapturedAt": now,
        }
        upsert_rows(self._table, [row])

    def complete(self, backup: BackupSet, *, item_count: int, now: datetime) -> BackupSet:
        """Seal the set (If-Match: only the header this run read)."""
        if backup.is_complete:
            return backup
        entity = {
            "PartitionKey": backup.tenant_id,
            "RowKey": _header_key(backup.id),
            "Status": BackupStatus.COMPLETE.value,
            "CompletedAt": now,
            "ItemCount": item_count,
        }
        with storage_errors("completing a backup set"):
            try:
                self._table.update_entity(
                    entity,
                    mode=UpdateMode.MERGE,
                    etag=backup.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                raise ConcurrentUpdate(f"backup set {backup.id} changed while completing") from None
        sealed = self.get(backup.tenant_id, backup.id)
        assert sealed is not None  # noqa: S101 - just updated
        return sealed

    # -- reads ----------------------------------------------------------------------------------

    def get(self, tenant_id: str, set_id: str) -> BackupSet | None:
        row = get_row(self._table, tenant_id, _header_key(set_id))
        return _set_from_row(tenant_id, set_id, row) if row else None

    def items(self, tenant_id: str, set_id: str) -> list[BackupItem]:
        rows = query_range(self._table, tenant_id, prefix_range(_item_prefix(set_id)))
        return [_item_from_row(set_id, row) for row in rows]

    def payload(self, tenant_id: str, item: BackupItem) -> dict[str, Any]:
        """The captured policy and assignments, checked against the recorded digest."""
        document: dict[str, Any] = self._blobs.get(item.blob, item.sha256)
        return document


def _set_from_row(tenant_id: str, set_id: str, row: dict[str, Any]) -> BackupSet:
    return BackupSet(
        id=set_id,
        tenant_id=tenant_id,
        label=row.get("Label", ""),
        status=BackupStatus(row["Status"]),
        run_id=row.get("RunId", ""),
        created_at=row["CreatedAt"],
        completed_at=row.get("CompletedAt"),
        item_count=int(row.get("ItemCount", 0)),
        etag=etag_of(row),
    )


def _item_from_row(set_id: str, row: dict[str, Any]) -> BackupItem:
    return BackupItem(
        backup_set_id=set_id,
        kind=row["Kind"],
        policy_id=row["PolicyId"],
        display_name=row.get("DisplayName", ""),
        odata_type=row.get("ODataType", ""),
        assignment_count=int(row.get("AssignmentCount", 0)),
        group_ids=tuple(json.loads(row.get("GroupIds") or "[]")),
        blob=row["Blob"],
        sha256=row["Sha256"],
    )
