"""What the Intune run types need at run time, built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.backups.store import BackupStore
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    ENTRA_GROUPS_TABLE,
    POLICY_INVENTORY_TABLE,
    POLICY_PAYLOADS_CONTAINER,
    RESTORE_LEDGER_TABLE,
)
from shared.directory.groups import EntraGroupsStore
from shared.operations.graph_access import GraphAccess
from shared.persistence.blobs import JsonBlobs
from shared.policies.inventory import PolicyInventoryStore
from shared.restore.ledger import RestoreLedger
from shared.storage import StorageClients


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OperationDeps:
    graph: GraphAccess
    groups: EntraGroupsStore
    inventory: PolicyInventoryStore
    backups: BackupStore
    ledger: RestoreLedger
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_storage(cls, storage: StorageClients, graph: GraphAccess) -> OperationDeps:
        return cls(
            graph=graph,
            groups=EntraGroupsStore(storage.table(ENTRA_GROUPS_TABLE)),
            inventory=PolicyInventoryStore(
                storage.table(POLICY_INVENTORY_TABLE),
                JsonBlobs(storage.container(POLICY_PAYLOADS_CONTAINER)),
            ),
            backups=BackupStore(
                storage.table(BACKUP_SETS_TABLE),
                JsonBlobs(storage.container(BACKUP_PAYLOADS_CONTAINER)),
            ),
            ledger=RestoreLedger(storage.table(RESTORE_LEDGER_TABLE)),
        )
