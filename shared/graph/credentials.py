"""What it takes to call Graph for one managed tenant: who we are and where Entra is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
PUBLIC_GRAPH = "https://graph.microsoft.com"
# The resource name in scopes is Graph's, even when Graph is served elsewhere (tests).
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True)
class CertificateCredential:
    private_key_pem: str = field(repr=False)
    thumbprint: str  # SHA-1, hex, as the app registration shows it


@dataclass(frozen=True)
class GraphCredentials:
    """Secrets are excluded from repr, so logging this object never leaks them."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: CertificateCredential | None = field(default=None, repr=False)
    authority_base_url: str = PUBLIC_AUTHORITY
    graph_base_url: str = PUBLIC_GRAPH
    # Dev/test only: trust this CA bundle (and only it) for Entra and Graph.
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        if (self.client_secret is None) == (self.certificate is None):
            raise ValueError("give exactly one of client_secret or certificate")
        for name in ("authority_base_url", "graph_base_url"):
            value = getattr(self, name).rstrip("/")
            if urlsplit(value).scheme != "https":
                raise ValueError(f"{name} must be an https URL")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "tenant_id", self.tenant_id.strip().lower())

    @property
    def authority(self) -> str:
        return f"{self.authority_base_url}/{self.tenant_id}"

    @property
    def is_public_cloud(self) -> bool:
        return self.authority_base_url == PUBLIC_AUTHORITY

    def msal_credential(self) -> str | dict[str, Any]:
        if self.certificate is not None:
            return {
                "private_key": self.certificate.private_key_pem,
                "thumbprint": self.certificate.thumbprint,
            }
        assert self.client_secret is not None  # noqa: S101 - guaranteed by __post_init__
        return self.client_secret

    @property
    def cache_key(self) -> tuple[str, str, str, str]:
        """Identifies one msal app: a rotated secret must not reuse the old app's cache."""
        cert = self.certificate
        secret = self.client_secret or (cert.thumbprint + cert.private_key_pem if cert else "")
        fingerprint = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]
        return (self.authority, self.client_id.lower(), fingerprint, self.ca_bundle or "")
