"""`BackupSets`: a header row per backup set and one row per captured policy.

PartitionKey = tenant id. RowKeys: `set~<backup set id>` for the header and
`item~<backup set id>~<kind>~<policy id>` for items, so a tenant's sets and one set's
items are each a single range query. Each item's full policy JSON with its assignments
stays inline in its row (`Payload`) when it fits one property, and is otherwise a blob,
`<tenant>/<backup set id>/<kind>/<policy id>.json`; either way the row records its
SHA-256. Item rows are written 100 per entity-group transaction (`batch`).

A set is written by one capture run only (its id is that run's id) while its status is
`capturing`; once `complete` it is immutable: nothing here writes to it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.data.tables import TableClient, UpdateMode

from shared.config import BACKUP_SETS_TABLE
from shared.errors import AppError, ConcurrentUpdate
from shared.persistence.blobs import BlobMissing, JsonBlobs, encode
from shared.persistence.tables import (
    MAX_BATCH,
    MAX_PROPERTY_CHARS,
    RowBatch,
    etag_of,
    fit_text,
    get_row,
    json_property,
    prefix_range,
    purge_range,
    purge_rows,
    query_range,
    storage_errors,
    stored_bytes,
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
    blob: str  # "" when the payload is inline
    sha256: str
    inline: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}~{self.policy_id}"

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.policy_id}"


# Every item column but the inline payload.
_ITEM_SUMMARY = (
    "RowKey",
    "Kind",
    "PolicyId",
    "DisplayName",
    "ODataType",
    "AssignmentCount",
    "GroupIds",
    "Blob",
    "Sha256",
)


def _header_key(set_id: str) -> str:
    return f"set~{set_id}"


def _item_prefix(set_id: str) -> str:
    return f"item~{set_id}~"


class BackupStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (BACKUP_SETS_TABLE,)

    def __init__(
        self,
        table: TableClient,
        blobs: JsonBlobs,
        *,
        batch_size: int = MAX_BATCH,
        inline_payloads: bool = True,
    ) -> None:
        self._table = table
        self._blobs = blobs
        self._batch_size = batch_size
        self._inline = inline_payloads

    def batch(self) -> RowBatch:
        """Item rows added into this are written 100 per transaction when it flushes."""
        return RowBatch(self._table, self._batch_size)

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

    def add_item(
        self,
        backup: BackupSet,
        snapshot: PolicySnapshot,
        now: datetime,
        batch: RowBatch | None = None,
    ) -> None:
        """The item row now, or into `batch`. A payload that fits the row stays inline;
        a larger one goes to its blob first, so a row never points at a missing payload."""
        if backup.is_complete:
            raise BackupSetSealed(f"backup set {backup.id} is complete and immutable")
        document = snapshot.document()
        data, digest = encode(document)
        text = data.decode("utf-8")
        inline = self._inline and stored_bytes(text) // 2 <= MAX_PROPERTY_CHARS
        blob = ""
        if not inline:
            blob = f"{backup.tenant_id}/{backup.id}/{snapshot.kind.name}/{snapshot.id}.json"
            self._blobs.put(blob, document)
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
        if inline:
            row["Payload"] = text
        if batch is None:
            upsert_rows(self._table, [row])
        else:
            batch.add(row)

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

    # -- retention ------------------------------------------------------------------------------

    def purge_unsealed(self, tenant_id: str, set_id: str) -> int | None:
        """Delete a set that was never sealed (its capture run ended without completing
        it): blobs, items, then the header, so a crash half way leaves the header to find
        again. A complete set is the customer's data and stays. Returns the blobs deleted,
        or None when there was no unsealed set."""
        # The status only: a header from an older layout may lack other fields.
        header = get_row(self._table, tenant_id, _header_key(set_id))
        if header is None or header.get("Status") == BackupStatus.COMPLETE.value:
            return None
        blobs = self._blobs.delete_prefix(f"{tenant_id}/{set_id}/")
        purge_range(self._table, tenant_id, prefix_range(_item_prefix(set_id)))
        purge_rows(self._table, tenant_id, [_header_key(set_id)])
        return blobs

    # -- reads ----------------------------------------------------------------------------------

    def get(self, tenant_id: str, set_id: str) -> BackupSet | None:
        row = get_row(self._table, tenant_id, _header_key(set_id))
        return _set_from_row(tenant_id, set_id, row) if row else None

    def items(self, tenant_id: str, set_id: str, *, with_payloads: bool = True) -> list[BackupItem]:
        """The set's items; without payloads, inline ones are left in storage (a listing
        or the group mapping needs only the row's summary)."""
        select = None if with_payloads else _ITEM_SUMMARY
        rows = query_range(self._table, tenant_id, prefix_range(_item_prefix(set_id)), select)
        return [_item_from_row(set_id, row) for row in rows]

    def payload(self, tenant_id: str, item: BackupItem) -> dict[str, Any]:
        """The captured policy and assignments, checked against the recorded digest."""
        if item.inline is not None:
            data = item.inline.encode("utf-8")
            if hashlib.sha256(data).hexdigest() != item.sha256:
                raise BlobMissing(f"backup item {item.ref} does not match its recorded digest")
            inline: dict[str, Any] = json.loads(data)
            return inline
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
        blob=row.get("Blob") or "",
        sha256=row["Sha256"],
        inline=row.get("Payload"),
    )
