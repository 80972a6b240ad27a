"""What the Intune run types need at run time (built by shared.composition.services)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.backups.store import BackupStore
from shared.directory.groups import EntraGroupsStore
from shared.policies.inventory import PolicyInventoryStore
from shared.restore.ledger import RestoreLedger
from shared.run_types.graph_access import GraphAccess


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunTypeDeps:
    graph: GraphAccess
    groups: EntraGroupsStore
    inventory: PolicyInventoryStore
    backups: BackupStore
    ledger: RestoreLedger
    clock: Callable[[], datetime] = utcnow
