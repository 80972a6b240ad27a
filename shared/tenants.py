"""Managed tenants: the `Tenants` table, one small partition the reaper and portal list.

A tenant row also names the tenant's Graph app: its client id and the NAME of the app
setting that holds its credential (in Azure a Key Vault reference). The secret itself is
never stored in a table; the worker reads it from settings when it needs a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.config import TENANTS_TABLE

# All managed tenants in one partition: a short list, read whole, never a table scan.
TENANTS_PARTITION = "tenant"

# An app setting name as Functions / App Service accept it (an environment variable).
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True)
class GraphAppReference:
    """Which app the worker uses for a tenant's Graph, and where its credential lives.

    credential_setting names the app setting holding the client secret;
    certificate_setting names the one holding a PEM private key (with its thumbprint).
    """

    client_id: str
    credential_setting: str | None = None
    certificate_setting: str | None = None
    certificate_thumbprint: str | None = None

    def __post_init__(self) -> None:
        for name in (self.credential_setting, self.certificate_setting):
            if name is not None and not _SETTING_NAME.fullmatch(name):
                raise ValueError("a credential setting must be an app setting name")


@dataclass(frozen=True)
class ManagedTenant:
    tenant_id: str
    name: str
    graph_app: GraphAppReference | None = None


def _graph_columns(app: GraphAppReference) -> dict[str, str]:
    # Every column is written ("" for none), so a merge never leaves a stale credential
    # reference behind (e.g. a secret setting after switching to a certificate).
    return {
        "GraphClientId": app.client_id,
        "GraphCredentialSetting": app.credential_setting or "",
        "GraphCertificateSetting": app.certificate_setting or "",
        "GraphCertificateThumbprint": app.certificate_thumbprint or "",
    }


def _tenant_from_entity(entity: Any) -> ManagedTenant:
    client_id = entity.get("GraphClientId")
    graph_app = None
    if client_id:
        graph_app = GraphAppReference(
            client_id=client_id,
            credential_setting=entity.get("GraphCredentialSetting") or None,
            certificate_setting=entity.get("GraphCertificateSetting") or None,
            certificate_thumbprint=entity.get("GraphCertificateThumbprint") or None,
        )
    return ManagedTenant(
        tenant_id=entity["RowKey"], name=entity.get("Name", ""), graph_app=graph_app
    )


class TenantStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (TENANTS_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def upsert(self, tenant: ManagedTenant) -> None:
        """Merge: a tenant saved without graph_app keeps the Graph app it had."""
        entity: dict[str, Any] = {
            "PartitionKey": TENANTS_PARTITION,
            "RowKey": tenant.tenant_id,
            "Name": tenant.name,
        }
        if tenant.graph_app is not None:
            entity.update(_graph_columns(tenant.graph_app))
        self._table.upsert_entity(entity, mode=UpdateMode.MERGE)

    def get(self, tenant_id: str) -> ManagedTenant | None:
        try:
            entity = self._table.get_entity(TENANTS_PARTITION, tenant_id)
        except ResourceNotFoundError:
            return None
        return _tenant_from_entity(entity)

    def all(self) -> Iterator[ManagedTenant]:
        for entity in self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": TENANTS_PARTITION}
        ):
            yield _tenant_from_entity(entity)
