"""Who exists: tenants, app registrations, service principals, users, consent."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from localcloud.seed import (
    API_APP,
    API_CONSENTED_SCOPES,
    AUTOMATION_APP,
    TENANTS,
    USERS,
    App,
    Tenant,
    User,
)

_SP_NAMESPACE = uuid.UUID("0b7d1c5e-4f3a-4e2b-9a61-7c8d9e0f1a2b")


@dataclass(frozen=True)
class Certificate:
    """A certificate credential registered on an app (private_key_jwt client auth)."""

    thumbprint_sha1: str  # upper-case hex, as the portal shows it
    public_key_pem: bytes


class Directory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tenants: dict[str, Tenant] = {t.tenant_id: t for t in TENANTS}
        self.users: dict[str, User] = {u.key: u for u in USERS}
        self._consent: dict[str, set[str]] = {t: set(API_CONSENTED_SCOPES) for t in self.tenants}
        self._certificates: dict[str, list[Certificate]] = {}

    def resolve_tenant(self, name: str) -> Tenant | None:
        """A tenant by GUID or verified domain, as the authority path names it."""
        key = name.lower()
        for tenant in self.tenants.values():
            if key in (tenant.tenant_id, tenant.domain):
                return tenant
        return None

    def app(self, tenant: Tenant, client_id: str) -> App | None:
        """An app usable in this tenant: its own registrations plus the multi-tenant apps."""
        for app in (*tenant.apps, API_APP, AUTOMATION_APP):
            if app.client_id == client_id.lower():
                return app
        return None

    @staticmethod
    def service_principal_oid(tenant_id: str, client_id: str) -> str:
        return str(uuid.uuid5(_SP_NAMESPACE, f"{tenant_id}:{client_id}"))

    def user(self, key_or_oid_or_upn: str, tenant: Tenant) -> User | None:
        wanted = key_or_oid_or_upn.lower()
        for user in self.users.values():
            if wanted in (user.key, user.oid, user.upn(tenant.domain).lower()):
                return user
        return None

    def consented_scopes(self, tenant_id: str) -> set[str]:
        with self._lock:
            return set(self._consent.get(tenant_id, set()))

    def set_consent(self, tenant_id: str, scopes: list[str]) -> None:
        """Change the API app's admin consent in a tenant (to simulate consent_required)."""
        with self._lock:
            self._consent[tenant_id] = set(scopes)

    def add_certificate(self, client_id: str, certificate: Certificate) -> None:
        with self._lock:
            self._certificates.setdefault(client_id.lower(), []).append(certificate)

    def certificate(self, client_id: str, thumbprint_sha1: str) -> Certificate | None:
        with self._lock:
            for cert in self._certificates.get(client_id.lower(), []):
                if cert.thumbprint_sha1 == thumbprint_sha1.upper():
                    return cert
        return None
