"""What storage the app needs, gathered from the stores that own it: each store declares
its tables (`TABLES`), so a new table is named in shared.config, in its store and in
infra/main.bicep (tests/infra checks the three agree), never in a list kept by hand here.
Queues and blob containers are few and fixed: shared.persistence.clients lists them."""

from __future__ import annotations

from shared.auth.membership import MembershipStore
from shared.backups.store import BackupStore
from shared.directory.groups import EntraGroupsStore
from shared.monitoring.queue_status import QueueStatusStore
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.notifications.preferences import PreferenceStore
from shared.persistence.clients import StorageClients
from shared.policies.inventory import PolicyInventoryStore
from shared.restore.ledger import RestoreLedger
from shared.runs.store import RunStore
from shared.runs.summaries import TenantSummaries
from shared.tenants import TenantStore

STORES = (
    RunStore,
    TenantStore,
    MembershipStore,
    EntraGroupsStore,
    PolicyInventoryStore,
    BackupStore,
    RestoreLedger,
    Inbox,
    DeliveryLedger,
    PreferenceStore,
    QueueStatusStore,
    TenantSummaries,
)
ALL_TABLES: tuple[str, ...] = tuple(dict.fromkeys(t for store in STORES for t in store.TABLES))


def provision(storage: StorageClients) -> None:
    """Create every table, queue and container the app uses (idempotent, concurrent-safe)."""
    storage.provision(tables=ALL_TABLES)
