"""The four Intune run types end to end: the worker harness over Azurite, Graph from a
real LocalCloud on loopback, the Tenants row pointing at an app setting for the secret.
Their dependencies come from the composition root, as in production.

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

from localcloud import LocalCloud
from localcloud.seed import (
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)
from shared.composition import root
from shared.composition.graph_tuning import GraphTuning, override_graph
from shared.composition.services import services
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    ENTRA_GROUPS_TABLE,
    POLICY_INVENTORY_TABLE,
    POLICY_PAYLOADS_CONTAINER,
    RESTORE_LEDGER_TABLE,
    TENANTS_TABLE,
    Settings,
)
from shared.graph import GraphClient, MsalApps, RetryPolicy
from shared.persistence.clients import StorageClients
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.run_type import Registry
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
    registry: Registry

    def graph(self) -> GraphClient:
        return self.deps.graph.client(CONTOSO_TENANT_ID)


@pytest.fixture
def tenant_id() -> str:
    """Overrides the harness's random tenant: Graph knows only the demo tenants."""
    return CONTOSO_TENANT_ID


# The deployed names of the run types' tables and containers; each test gets private ones.
TABLES = {
    "tenants": TENANTS_TABLE,
    "groups": ENTRA_GROUPS_TABLE,
    "inventory": POLICY_INVENTORY_TABLE,
    "backups": BACKUP_SETS_TABLE,
    "ledger": RESTORE_LEDGER_TABLE,
}
CONTAINERS = {"policies": POLICY_PAYLOADS_CONTAINER, "backups": BACKUP_PAYLOADS_CONTAINER}


@pytest.fixture
def harness_settings(harness_settings: Settings, cloud: LocalCloud) -> Settings:  # noqa: F811
    """The harness's settings, with Graph and Entra at the local cloud."""
    return harness_settings.model_copy(
        update={
            "graph_authority_base_url": cloud.base_url,
            "graph_base_url": cloud.graph_base_url,
            "graph_ca_bundle": str(cloud.ca_path),
        }
    )


@pytest.fixture
def env(
    storage: StorageClients,
    cloud: LocalCloud,  # noqa: F811 - the imported fixture
    harness_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Env]:
    """The run types' dependencies as the composition root builds them, over private
    tables and containers, a fresh msal registry and recorded Graph waits."""
    suffix = uuid.uuid4().hex[:12]
    names = {kind: f"t{kind}{suffix}" for kind in TABLES}
    containers = {kind: f"c-{kind}-{suffix}" for kind in CONTAINERS}
    tsc = storage.table_service()
    for name in names.values():
        tsc.create_table(name)
    for name in containers.values():
        storage.container(name).create_container()
    renames = {TABLES[kind]: name for kind, name in names.items()}
    renames |= {CONTAINERS[kind]: name for kind, name in containers.items()}
    monkeypatch.setenv(SECRET_SETTING, CONTOSO_GRAPH_CLIENT_SECRET)
    apps, sleeps = MsalApps(), Sleeps()
    try:
        tuning = GraphTuning(
            retry=RetryPolicy(
                max_attempts=4, base_delay=0.01, max_delay=0.05, rng=random.Random(7)
            ),
            apps=apps,
            sleep=sleeps,
        )
        with (
            root.override(settings=harness_settings, storage=storage, renames=renames),
            override_graph(tuning),
        ):
            built = services()
            tables = {kind: storage.table(name) for kind, name in names.items()}
            built.tenants.upsert(
                ManagedTenant(
                    CONTOSO_TENANT_ID,
                    "Contoso",
                    GraphAppReference(
                        client_id=CONTOSO_GRAPH_CLIENT_ID, credential_setting=SECRET_SETTING
                    ),
                )
            )
            yield Env(built.operations, built.tenants, apps, sleeps, cloud, tables, built.registry)
    finally:
        apps.close()
        for name in names.values():
            tsc.delete_table(name)
        for name in containers.values():
            storage.container(name).delete_container()


@pytest.fixture
def registry(env: Env) -> Registry:
    """The production catalogue as the root builds it, on this test's stores and Graph."""
    return env.registry


@pytest.fixture
def harness(harness: Harness) -> Iterator[Harness]:
    """The shared harness, on the demo tenant's partition: leave no active run behind."""
    yield harness
    for lock in list(harness.store.active_locks(harness.tenant_id)):
        harness.service.fail(harness.tenant_id, lock.run_id, "test_cleanup", "test ended")


def rows(table: Any, tenant_id: str = CONTOSO_TENANT_ID) -> list[dict[str, Any]]:
    return list(table.query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id}))
