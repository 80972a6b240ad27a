"""The app over real HTTP, for the e2e and browser tests and the HTTP benchmarks: the app
in DevHost (loopback), the session's Azurite, and a LocalCloud for Entra (tokens, JWKS,
on-behalf-of) and Graph.

Building blocks only (no fixtures): tests/e2e/conftest.py and tests/browser/conftest.py
turn them into package-scoped fixtures. Memberships are seeded as `make dev` seeds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devhost import DevHost, LocalSettings
from devhost.as_deployed import FORBIDDEN, LocalPlatform, deployed_settings
from devhost.localstack import AUTOMATION_OID, demo_easy_auth, local_values, seed_demo
from devstack.azurite import Azurite, free_port, start_azurite
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
from localcloud.tls import SERVER_CERT_FILE, SERVER_KEY_FILE
from shared.auth.membership import Membership, MembershipStore, Role
from shared.composition import root
from shared.config import MEMBER_TENANTS_TABLE, TENANT_MEMBERS_TABLE
from shared.persistence.clients import StorageClients, StorageEndpoints

ROOT = Path(__file__).resolve().parents[1]
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
    root.reset()  # closes the services' network clients


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

    def fresh_tenant(self, name: str = "Test tenant", **roles: Role) -> str:
        """A new tenant id (a clean partition) with the given members, e.g. operator=..."""
        tenant_id = str(uuid.uuid4())
        for who, role in roles.items():
            self.grant(who, tenant_id, role, name)
        return tenant_id

    @contextmanager
    def worker(self) -> Iterator[DevHost]:
        """Another instance of the same app with queue workers and timers on (as a second
        Functions instance in Azure): runs queued so far are picked up while it runs."""
        import function_app

        host = DevHost(function_app.app, ROOT / "host.json", LocalSettings(), port=free_port())
        with host:
            yield host


@contextmanager
def running_stack(
    azurite: Azurite,
    cloud: LocalCloud,
    *,
    workers: bool = False,
    easy_auth: bool = False,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """The app served over HTTP on a free loopback port, with the demo tenants and members
    seeded. `easy_auth` puts the local App Service Authentication in front and makes the
    app trust its principal header (the host strips client-sent copies, as Azure does)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        # What `make dev` writes into local.settings.json, pointed at this LocalCloud.
        **local_values(cloud.base_url, cloud.ca_path),
        "AzureWebJobsStorage": azurite.connection_string,
        "AUTO_PROVISION_STORAGE": "true",
        "ENABLE_DIAGNOSTIC_RUN_TYPES": "true",
        "PUBLIC_BASE_URL": base_url,
        "AUTH_TRUST_APP_SERVICE_PRINCIPAL": "true" if easy_auth else "false",
        "WEBSITE_AUTH_ENABLED": "True" if easy_auth else "",
        **(settings or {}),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        reset_caches()
        try:
            storage = StorageClients.from_connection_string(azurite.connection_string)
            with _seeded_host(storage, cloud, port, workers=workers, easy_auth=easy_auth) as stack:
                yield stack
        finally:
            reset_caches()


@contextmanager
def standalone_stack(*, workers: bool = False) -> Iterator[Stack]:
    """`running_stack` on an Azurite and a LocalCloud of its own, both stopped on exit:
    for the HTTP benchmarks, which run outside pytest's session fixtures."""
    azurite = start_azurite()
    cloud = LocalCloud.start()
    try:
        with running_stack(azurite, cloud, workers=workers) as stack:
            yield stack
    finally:
        cloud.stop()
        azurite.stop()


@contextmanager
def _seeded_host(
    storage: StorageClients, cloud: LocalCloud, port: int, *, workers: bool, easy_auth: bool
) -> Iterator[Stack]:
    """Seed the demo tenants and members (as `make dev` does), then serve the app."""
    seed_demo(storage)
    members = MembershipStore(
        storage.table(TENANT_MEMBERS_TABLE), storage.table(MEMBER_TENANTS_TABLE), ttl=0
    )
    import function_app

    host = DevHost(
        function_app.app,
        ROOT / "host.json",
        LocalSettings(),
        port=port,
        workers=workers,
        easy_auth=demo_easy_auth(cloud) if easy_auth else None,
    )
    with host:
        yield Stack(f"http://127.0.0.1:{port}", cloud, storage, members, host)


@contextmanager
def running_deployed_stack(cloud: LocalCloud, *, workers: bool = True) -> Iterator[Stack]:
    """The app with the settings infra/ deploys (devhost.as_deployed): storage only through
    the managed identity (an Azurite of its own over HTTPS that checks bearer tokens, the
    App Service identity endpoint of `cloud`), App Service Authentication in front, and
    no AzureWebJobsStorage in the environment at all."""
    tls = (cloud.ca_path.parent / SERVER_CERT_FILE, cloud.ca_path.parent / SERVER_KEY_FILE)
    azurite = start_azurite(tls)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    platform = LocalPlatform(
        cloud_base_url=cloud.base_url,
        ca_path=cloud.ca_path,
        blob_uri=azurite.blob_uri,
        queue_uri=azurite.queue_uri,
        table_uri=azurite.table_uri,
        public_base_url=base_url,
        identity=cloud.managed_identity().environment,
    )
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in FORBIDDEN:
                patch.delenv(name, raising=False)
            for name, value in deployed_settings(platform).items():
                patch.setenv(name, value)
            reset_caches()
            try:
                from azure.identity import DefaultAzureCredential

                # What `azd provision` creates and an operator seeds (with their identity).
                storage = StorageClients.from_identity(
                    StorageEndpoints(azurite.blob_uri, azurite.queue_uri, azurite.table_uri),
                    DefaultAzureCredential(),
                )
                with _seeded_host(storage, cloud, port, workers=workers, easy_auth=True) as stack:
                    yield stack
            finally:
                reset_caches()
    finally:
        azurite.stop()
