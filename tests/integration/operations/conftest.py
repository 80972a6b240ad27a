"""The four Intune run types end to end: the worker harness over Azurite, Graph from a
real LocalCloud on loopback, the Tenants row pointing at an app setting for the secret.

Each test gets its own tables and blob containers (the run types' data for the demo
tenant never leaks between tests) and its own msal registry (token counts are exact).
Each test module gets its own LocalCloud, because restores add policies to it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localcloud import LocalCloud
from localcloud.seed import (
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)
from shared.backups.store import BackupStore
from shared.directory.groups import EntraGroupsStore
from shared.graph import GraphClient, MsalApps, RetryPolicy
from shared.operations.catalogue import build_registry
from shared.operations.graph_access import GraphAccess, GraphEndpoints
from shared.operations.run_type_deps import RunTypeDeps
from shared.persistence.blobs import JsonBlobs
from shared.persistence.clients import StorageClients
from shared.policies.inventory import PolicyInventoryStore
from shared.restore.ledger import RestoreLedger
from shared.runs.run_types import Registry
from shared.tenants import GraphAppReference, ManagedTenant, TenantStore
from tests.integration.conftest import Harness
from tests.integration.localcloud.conftest import (  # noqa: F401 - shared fixtures
    clean_cloud,
    cloud,
)

# The NAME of the app setting holding the secret (a Key Vault reference in Azure).
SECRET_SETTING = "CONTOSO_GRAPH_SECRET"  # noqa: S105 - a setting name, not a secret


class Sleeps(list[float]):
    """Records the Graph client's waits instead of sleeping (tests stay fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class Env:
    """What a test can look at: the stores, Graph access, the local cloud and its waits."""

    deps: RunTypeDeps
    tenants: TenantStore
    apps: MsalApps
    sleeps: Sleeps
    cloud: LocalCloud
    tables: dict[str, Any]

    def graph(self) -> GraphClient:
        return self.deps.graph.client(CONTOSO_TENANT_ID)


@pytest.fixture
def tenant_id() -> str:
    """Overrides the harness's random tenant: Graph knows only the demo tenants."""
    return CONTOSO_TENANT_ID


@pytest.fixture
def env(
    storage: StorageClients,
    cloud: LocalCloud,  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Env]:
    suffix = uuid.uuid4().hex[:12]
    names = {
        kind: f"t{kind}{suffix}" for kind in ("tenants", "groups", "inventory", "backups", "ledger")
    }
    containers = {kind: f"c-{kind}-{suffix}" for kind in ("policies", "backups")}
    tsc = TableServiceClient.from_connection_string(storage.connection_string)
    bsc = BlobServiceClient.from_connection_string(storage.connection_string)
    for name in names.values():
        tsc.create_table(name)
    for name in containers.values():
        bsc.create_container(name)
    tables = {kind: storage.table(name) for kind, name in names.items()}

    tenants = TenantStore(tables["tenants"])
    tenants.upsert(
        ManagedTenant(
            CONTOSO_TENANT_ID,
            "Contoso",
            GraphAppReference(client_id=CONTOSO_GRAPH_CLIENT_ID, credential_setting=SECRET_SETTING),
        )
    )
    monkeypatch.setenv(SECRET_SETTING, CONTOSO_GRAPH_CLIENT_SECRET)
    apps, sleeps = MsalApps(), Sleeps()
    graph = GraphAccess(
        tenants,
        GraphEndpoints(cloud.base_url, cloud.graph_base_url, str(cloud.ca_path)),
        apps=apps,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, rng=random.Random(7)),
        sleep=sleeps,
    )
    deps = RunTypeDeps(
        graph=graph,
        groups=EntraGroupsStore(tables["groups"]),
        inventory=PolicyInventoryStore(
            tables["inventory"], JsonBlobs(storage.container(containers["policies"]))
        ),
        backups=BackupStore(tables["backups"], JsonBlobs(storage.container(containers["backups"]))),
        ledger=RestoreLedger(tables["ledger"]),
    )
    try:
        yield Env(deps, tenants, apps, sleeps, cloud, tables)
    finally:
        apps.close()
        for name in names.values():
            tsc.delete_table(name)
        for name in containers.values():
            bsc.delete_container(name)


@pytest.fixture
def registry(env: Env) -> Registry:
    """The production catalogue, wired to this test's stores and Graph access."""
    return build_registry(include_diagnostics=False, deps=env.deps)


@pytest.fixture
def harness(harness: Harness) -> Iterator[Harness]:
    """The shared harness, on the demo tenant's partition: leave no active run behind."""
    yield harness
    for lock in list(harness.store.active_locks(harness.tenant_id)):
        harness.service.fail(harness.tenant_id, lock.run_id, "test_cleanup", "test ended")


def rows(table: Any, tenant_id: str = CONTOSO_TENANT_ID) -> list[dict[str, Any]]:
    return list(table.query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id}))
