"""`PolicyInventory`: what policy.sync last saw of each policy in a tenant.

PartitionKey = tenant id, RowKey = `<kind>~<policy id>`, so one kind of one tenant is a
single range query. The row holds what a list view needs (name, type, kind, assignment
summary, last synced); the full policy JSON with its assignments stays inline when it
fits one property, and goes to Blob storage (`<tenant>/<kind>/<policy id>.json`) when
it does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from azure.data.tables import TableClient

from shared.config import POLICY_INVENTORY_TABLE
from shared.persistence.blobs import JsonBlobs
from shared.persistence.tables import (
    MAX_BATCH,
    RowBatch,
    delete_rows,
    fit_text,
    get_row,
    json_property,
    prefix_range,
    query_range,
    upsert_rows,
)
from shared.policies.kinds import PolicyKind
from shared.policies.snapshot import PolicySnapshot


@dataclass(frozen=True)
class InventoryEntry:
    kind: str
    policy_id: str
    display_name: str
    odata_type: str
    assignment_summary: dict[str, Any]
    last_synced_at: datetime
    payload_blob: str | None  # None: the payload is inline in the row


def _blob_name(tenant_id: str, kind: str, policy_id: str) -> str:
    return f"{tenant_id}/{kind}/{policy_id}.json"


class PolicyInventoryStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (POLICY_INVENTORY_TABLE,)

    def __init__(
        self, table: TableClient, blobs: JsonBlobs, *, batch_size: int = MAX_BATCH
    ) -> None:
        self._table = table
        self._blobs = blobs
        self._batch_size = batch_size

    def batch(self) -> RowBatch:
        """Rows saved into this are written 100 per transaction when it flushes."""
        return RowBatch(self._table, self._batch_size)

    def save(
        self,
        tenant_id: str,
        snapshot: PolicySnapshot,
        sync_id: str,
        synced_at: datetime,
        batch: RowBatch | None = None,
    ) -> None:
        """Upsert the policy's row now, or into `batch`. A payload too large for the row
        goes to its blob first, so a row never points at a payload that is not there."""
        row: dict[str, Any] = {
            "PartitionKey": tenant_id,
            "RowKey": snapshot.key,
            "Kind": snapshot.kind.name,
            "PolicyId": snapshot.id,
            "DisplayName": fit_text(snapshot.display_name, 512),
            "ODataType": fit_text(snapshot.odata_type, 256),
            "AssignmentCount": len(snapshot.assignments),
            "AssignmentSummary": json_property(snapshot.assignment_summary()) or "{}",
            "LastSyncedAt": synced_at,
            "SyncId": sync_id,
        }
        payload = json_property(snapshot.document())
        if payload is not None:
            row["Payload"] = payload
        else:
            name = _blob_name(tenant_id, snapshot.kind.name, snapshot.id)
            row["PayloadBlob"] = name
            row["PayloadSha256"] = self._blobs.put(name, snapshot.document())
        if batch is None:
            upsert_rows(self._table, [row])
        else:
            batch.add(row)

    def remove_unseen(self, tenant_id: str, kind: PolicyKind, sync_id: str) -> int:
        """Drop the kind's rows (and blobs) this sync did not see: deleted in the tenant."""
        stale = [
            row
            for row in query_range(
                self._table,
                tenant_id,
                prefix_range(f"{kind.name}~"),
                ("RowKey", "SyncId", "PayloadBlob"),
            )
            if row.get("SyncId") != sync_id
        ]
        delete_rows(self._table, tenant_id, [row["RowKey"] for row in stale])
        for row in stale:
            if row.get("PayloadBlob"):
                self._blobs.delete(row["PayloadBlob"])
        return len(stale)

    def entries(self, tenant_id: str, kind: PolicyKind) -> Iterator[InventoryEntry]:
        select = (
            "Kind", "PolicyId", "DisplayName", "ODataType", "AssignmentSummary",
            "LastSyncedAt", "PayloadBlob",
        )  # fmt: skip
        for row in query_range(self._table, tenant_id, prefix_range(f"{kind.name}~"), select):
            yield InventoryEntry(
                kind=row["Kind"],
                policy_id=row["PolicyId"],
                display_name=row.get("DisplayName", ""),
                odata_type=row.get("ODataType", ""),
                assignment_summary=json.loads(row.get("AssignmentSummary") or "{}"),
                last_synced_at=row["LastSyncedAt"],
                payload_blob=row.get("PayloadBlob") or None,
            )

    def payload(self, tenant_id: str, kind: PolicyKind, policy_id: str) -> dict[str, Any] | None:
        """The stored policy with its assignments, wherever it lives."""
        row = get_row(self._table, tenant_id, f"{kind.name}~{policy_id}")
        if row is None:
            return None
        if row.get("Payload"):
            document: dict[str, Any] = json.loads(row["Payload"])
            return document
        loaded: dict[str, Any] = self._blobs.get(row["PayloadBlob"], row.get("PayloadSha256"))
        return loaded
