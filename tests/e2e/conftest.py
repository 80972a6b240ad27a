"""End-to-end over real HTTP: the app in DevHost (loopback), the session's Azurite, and a
LocalCloud for Entra (tokens, JWKS, on-behalf-of) and Graph.

One host (HTTP only, no queue workers: runs stay queued, so dedup is observable) serves
the package. Contoso and Fabrikam are the LocalCloud tenants; memberships are seeded as
`make dev` seeds them. Tests that need a clean partition grant themselves a fresh tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devhost import DevHost, LocalSettings
from devhost.localstack import AUTOMATION_OID, local_values, seed_demo
from localcloud import LocalCloud
from localcloud.seed import (
    API_APP_ROLES,
    API_AUDIENCE,
    AUTOMATION_CLIENT_ID,
    CONTOSO_TENANT_ID,
    FABRIKAM_TENANT_ID,
    OPERATOR_OID,
    OUTSIDER_OID,
    VIEWER_OID,
)
from shared import composition, config
from shared.api import wiring
from shared.auth.membership import Membership, MembershipStore, Role
from shared.config import MEMBER_TENANTS_TABLE, TENANT_MEMBERS_TABLE
from shared.storage import StorageClients
from tests.azurite import Azurite, free_port

ROOT = Path(__file__).resolve().parents[2]
OIDS = {
    "operator": OPERATOR_OID,
    "viewer": VIEWER_OID,
    "outsider": OUTSIDER_OID,
    "app": AUTOMATION_OID,
}
# Who is what where (as `make dev` seeds it).
SEEDED_ROLES = {
    ("operator", CONTOSO_TENANT_ID): Role.OPERATOR,
    ("operator", FABRIKAM_TENANT_ID): Role.OPERATOR,
    ("viewer", CONTOSO_TENANT_ID): Role.READONLY,
    ("app", CONTOSO_TENANT_ID): Role.OPERATOR,
    ("app", FABRIKAM_TENANT_ID): Role.OPERATOR,
}


def reset_caches() -> None:
    config.get_settings.cache_clear()
    composition.reset_services()
    wiring.api_services.cache_clear()


@dataclass
class Stack:
    base_url: str
    cloud: LocalCloud
    storage: StorageClients
    members: MembershipStore
    host: DevHost

    def token(self, who: str, **options: object) -> str:
        if who == "app":
            return self.cloud.issue_app_token(
                CONTOSO_TENANT_ID,
                audience=API_AUDIENCE,
                roles=list(API_APP_ROLES),
                client_id=AUTOMATION_CLIENT_ID,
                **options,  # type: ignore[arg-type]
            )
        return self.cloud.issue_user_token(who, **options)  # type: ignore[arg-type]

    def client(self, who: str | None = None, token: str | None = None) -> httpx.Client:
        headers = {}
        if token is None and who is not None:
            token = self.token(who)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def grant(self, who: str, tenant_id: str, role: Role, name: str = "Test tenant") -> None:
        kind = "app" if who == "app" else "user"
        self.members.grant(Membership(tenant_id, OIDS[who], role, name, kind))

    def fresh_tenant(self, **roles: Role) -> str:
        """A new tenant id (a clean partition) with the given members, e.g. operator=..."""
        tenant_id = str(uuid.uuid4())
        for who, role in roles.items():
            self.grant(who, tenant_id, role)
        return tenant_id


@pytest.fixture(scope="package")
def e2e_cloud() -> Iterator[LocalCloud]:
    instance = LocalCloud.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="package")
def stack(azurite: Azurite, e2e_cloud: LocalCloud) -> Iterator[Stack]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        # What `make dev` writes into local.settings.json, pointed at this LocalCloud.
        **local_values(e2e_cloud.base_url, e2e_cloud.ca_path),
        "AzureWebJobsStorage": azurite.connection_string,
        "AUTO_PROVISION_STORAGE": "true",
        "ENABLE_DIAGNOSTIC_RUN_TYPES": "true",
        "PUBLIC_BASE_URL": base_url,
        "AUTH_TRUST_APP_SERVICE_PRINCIPAL": "false",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        reset_caches()
        storage = StorageClients.from_connection_string(azurite.connection_string)
        storage.provision()
        members = MembershipStore(
            storage.table(TENANT_MEMBERS_TABLE), storage.table(MEMBER_TENANTS_TABLE), ttl=0
        )
        seed_demo(azurite.connection_string)  # as `make dev` seeds: tenants and members
        import function_app

        host = DevHost(
            function_app.app, ROOT / "host.json", LocalSettings(), port=port, workers=False
        )
        with host:
            yield Stack(base_url, e2e_cloud, storage, members, host)
        reset_caches()


@pytest.fixture(autouse=True)
def _clean_cloud(e2e_cloud: LocalCloud) -> Iterator[None]:
    e2e_cloud.faults.clear()
    yield
    e2e_cloud.faults.clear()


@pytest.fixture
def label() -> str:
    """A unique noop label: a start that must not dedupe against other tests' runs."""
    return f"t-{uuid.uuid4().hex[:12]}"


Call = Callable[..., httpx.Response]
