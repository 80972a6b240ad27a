"""Managed tenants: the `Tenants` table, one small partition the reaper and portal list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

# All managed tenants in one partition: a short list, read whole, never a table scan.
TENANTS_PARTITION = "tenant"


@dataclass(frozen=True)
class ManagedTenant:
    tenant_id: str
    name: str


class TenantStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def upsert(self, tenant: ManagedTenant) -> None:
        self._table.upsert_entity(
            {"PartitionKey": TENANTS_PARTITION, "RowKey": tenant.tenant_id, "Name": tenant.name},
            mode=UpdateMode.MERGE,
        )

    def get(self, tenant_id: str) -> ManagedTenant | None:
        try:
            entity = self._table.get_entity(TENANTS_PARTITION, tenant_id)
        except ResourceNotFoundError:
            return None
        return ManagedTenant(tenant_id=entity["RowKey"], name=entity.get("Name", ""))

    def all(self) -> Iterator[ManagedTenant]:
        for entity in self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": TENANTS_PARTITION}
        ):
            yield ManagedTenant(tenant_id=entity["RowKey"], name=entity.get("Name", ""))
