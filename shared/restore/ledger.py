"""`RestoreLedger`: what a restore run has done to the tenant, per backup item.

PartitionKey = tenant id, RowKey = `<run id>~<kind>~<source policy id>`. A row is
written BEFORE the policy is created (state `creating`, with the marker the new policy
will carry), updated with the created policy's id as soon as Graph answers (`created`),
and once more after the assignments are in place (`assigned`). A redelivered run reads
the row first, so it never creates a second copy: `creating` without an id means the
create's outcome is unknown, and the tenant is searched for the marker before creating.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.config import RESTORE_LEDGER_TABLE
from shared.errors import ConcurrentUpdate
from shared.persistence.tables import etag_of, get_row, prefix_range, purge_range, storage_errors


class LedgerState(StrEnum):
    CREATING = "creating"
    """A create was (maybe) sent; the new policy's id is not known yet."""
    CREATED = "created"
    """The policy exists in the tenant; assignments are not confirmed yet."""
    ASSIGNED = "assigned"
    """Created and assigned: nothing left to do for this item."""


@dataclass(frozen=True)
class LedgerEntry:
    tenant_id: str
    run_id: str
    item_key: str  # `<kind>~<source policy id>`
    backup_set_id: str
    marker: str
    state: LedgerState
    created_policy_id: str | None = None
    etag: str | None = None

    @property
    def row_key(self) -> str:
        return f"{self.run_id}~{self.item_key}"


class RestoreLedger:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (RESTORE_LEDGER_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def get(self, tenant_id: str, run_id: str, item_key: str) -> LedgerEntry | None:
        row = get_row(self._table, tenant_id, f"{run_id}~{item_key}")
        if row is None:
            return None
        return LedgerEntry(
            tenant_id=tenant_id,
            run_id=run_id,
            item_key=item_key,
            backup_set_id=row["BackupSetId"],
            marker=row["Marker"],
            state=LedgerState(row["State"]),
            created_policy_id=row.get("CreatedPolicyId") or None,
            etag=etag_of(row),
        )

    def begin(self, entry: LedgerEntry) -> LedgerEntry:
        """Record the intent to create (insert only: an existing row wins and is returned)."""
        with storage_errors("writing RestoreLedger"):
            try:
                self._table.create_entity(self._entity(entry))
            except ResourceExistsError:
                pass
        found = self.get(entry.tenant_id, entry.run_id, entry.item_key)
        if found is None:  # pragma: no cover - inserted or found just above
            raise ConcurrentUpdate(f"ledger row {entry.row_key} vanished")
        return found

    def record_created(self, entry: LedgerEntry, policy_id: str, now: datetime) -> LedgerEntry:
        return self._save(
            replace(entry, state=LedgerState.CREATED, created_policy_id=policy_id), now
        )

    def record_assigned(self, entry: LedgerEntry, now: datetime) -> LedgerEntry:
        return self._save(replace(entry, state=LedgerState.ASSIGNED), now)

    def purge_run(self, tenant_id: str, run_id: str) -> int:
        """Delete one run's rows (retention, once the run is gone); returns how many."""
        return purge_range(self._table, tenant_id, prefix_range(f"{run_id}~"))

    def forget(self, entry: LedgerEntry) -> None:
        """Graph refused the create (so nothing exists): a later attempt may try again."""
        with storage_errors("writing RestoreLedger"):
            try:
                self._table.delete_entity(
                    entry.tenant_id,
                    entry.row_key,
                    etag=entry.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except (ResourceNotFoundError, ResourceModifiedError):
                pass

    def _save(self, entry: LedgerEntry, now: datetime) -> LedgerEntry:
        entity: dict[str, Any] = {**self._entity(entry), "UpdatedAt": now}
        with storage_errors("writing RestoreLedger"):
            try:
                metadata = self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=entry.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                raise ConcurrentUpdate(f"ledger row {entry.row_key} changed") from None
        return replace(entry, etag=metadata.get("etag"))

    @staticmethod
    def _entity(entry: LedgerEntry) -> dict[str, str]:
        return {
            "PartitionKey": entry.tenant_id,
            "RowKey": entry.row_key,
            "BackupSetId": entry.backup_set_id,
            "Marker": entry.marker,
            "State": entry.state.value,
            "CreatedPolicyId": entry.created_policy_id or "",
        }
