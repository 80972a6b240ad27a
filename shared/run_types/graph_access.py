"""Graph for a managed tenant, as the worker sees it: the tenant's app from the Tenants
row, its credential from app settings, one msal app (and token cache) per process.

Only workers call this: start endpoints and read endpoints never touch Graph.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.config import Settings
from shared.errors import AppError
from shared.graph import (
    CertificateCredential,
    GraphClient,
    GraphCredentials,
    MsalApps,
    RetryPolicy,
    default_apps,
)
from shared.persistence.tables import storage_errors
from shared.tenants import GraphAppReference, TenantStore

# In Azure an app setting may be a Key Vault reference; if App Service could not resolve
# it, the app sees the reference text itself, which must never be sent as a secret.
_UNRESOLVED_KEY_VAULT = "@microsoft.keyvault("

SettingReader = Callable[[str], str | None]


class GraphNotConfigured(AppError):
    """The tenant has no usable Graph app credential: an operator must configure it."""

    code = "graph_not_configured"
    http_status = 409


@dataclass(frozen=True)
class GraphEndpoints:
    authority_base_url: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com"
    ca_bundle: str | None = None  # dev/test only

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphEndpoints:
        return cls(
            authority_base_url=settings.graph_authority_base_url,
            graph_base_url=settings.graph_base_url,
            ca_bundle=settings.graph_ca_bundle or None,
        )


class GraphAccess:
    def __init__(
        self,
        tenants: TenantStore,
        endpoints: GraphEndpoints,
        *,
        apps: MsalApps | None = None,
        read_setting: SettingReader = os.environ.get,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._tenants = tenants
        self._endpoints = endpoints
        # Process-wide by default: a worker asks Entra for a token about once an hour per
        # tenant, not once per run.
        self._apps = apps or default_apps()
        self._read_setting = read_setting
        self._retry = retry
        self._sleep = sleep
        self._transport = transport  # tests only: Graph through an in-process transport

    def client(self, tenant_id: str) -> GraphClient:
        """A Graph client for one run (close it, or use it as a context manager)."""
        return GraphClient(
            self.credentials(tenant_id),
            apps=self._apps,
            retry=self._retry,
            sleep=self._sleep,
            transport=self._transport,
        )

    def credentials(self, tenant_id: str) -> GraphCredentials:
        with storage_errors("reading Tenants"):
            tenant = self._tenants.get(tenant_id)
        if tenant is None or tenant.graph_app is None:
            raise GraphNotConfigured(f"tenant {tenant_id} has no Graph app configured")
        app = tenant.graph_app
        secret: str | None = None
        certificate: CertificateCredential | None = None
        if app.certificate_setting:
            certificate = self._certificate(tenant_id, app)
        elif app.credential_setting:
            secret = self._secret(tenant_id, app.credential_setting)
        else:
            raise GraphNotConfigured(f"tenant {tenant_id} names no Graph credential setting")
        endpoints = self._endpoints
        return GraphCredentials(
            tenant_id=tenant_id,
            client_id=app.client_id,
            client_secret=secret,
            certificate=certificate,
            authority_base_url=endpoints.authority_base_url,
            graph_base_url=endpoints.graph_base_url,
            ca_bundle=endpoints.ca_bundle,
        )

    def _certificate(self, tenant_id: str, app: GraphAppReference) -> CertificateCredential:
        assert app.certificate_setting is not None  # noqa: S101 - checked by the caller
        if not app.certificate_thumbprint:
            raise GraphNotConfigured(f"tenant {tenant_id}: certificate without a thumbprint")
        key = self._secret(tenant_id, app.certificate_setting)
        return CertificateCredential(private_key_pem=key, thumbprint=app.certificate_thumbprint)

    def _secret(self, tenant_id: str, setting: str) -> str:
        # Messages name the setting, never its value.
        value = (self._read_setting(setting) or "").strip()
        if not value:
            raise GraphNotConfigured(
                f"tenant {tenant_id}: app setting {setting} holds no Graph credential"
            )
        if value.lower().startswith(_UNRESOLVED_KEY_VAULT):
            raise GraphNotConfigured(
                f"tenant {tenant_id}: app setting {setting} is an unresolved Key Vault reference"
            )
        return value
