"""Claims of the token kinds the local Entra issues: app-only, user, delegated Graph, and
the ID token of a sign-in (what App Service Authentication builds its principal from)."""

from __future__ import annotations

import uuid

from localcloud.directory import Directory
from localcloud.seed import App, Tenant, User
from localcloud.tokens import DEFAULT_LIFETIME, TokenSigner


class TokenIssuer:
    def __init__(self, directory: Directory, signer: TokenSigner) -> None:
        self.directory = directory
        self.signer = signer

    def app_token(
        self,
        tenant: Tenant,
        app: App,
        audience: str,
        roles: list[str] | None,
        *,
        certificate: bool = False,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> str:
        sp_oid = self.directory.service_principal_oid(tenant.tenant_id, app.client_id)
        claims: dict[str, object] = {
            "oid": sp_oid,
            "sub": sp_oid,
            "appid": app.client_id,
            "azp": app.client_id,
            "appidacr": "2" if certificate else "1",
            "azpacr": "2" if certificate else "1",
            "idtyp": "app",
            "app_displayname": app.display_name,
        }
        if roles:  # Entra omits `roles` when the app holds no application permission
            claims["roles"] = list(roles)
        return self.signer.issue(tenant.tenant_id, audience, claims, lifetime)

    def user_token(
        self,
        tenant: Tenant,
        user: User,
        audience: str,
        scopes: list[str],
        client_id: str,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> str:
        claims: dict[str, object] = {
            "oid": user.oid,
            # sub is pairwise per app in Entra; a stable hash of (user, client) mimics that.
            "sub": str(uuid.uuid5(uuid.UUID(user.oid), client_id)),
            "name": user.display_name,
            "preferred_username": user.upn(tenant.domain),
            "upn": user.upn(tenant.domain),
            "scp": " ".join(scopes),
            "azp": client_id,
            "appid": client_id,
            "azpacr": "0",
            "idtyp": "user",
        }
        return self.signer.issue(tenant.tenant_id, audience, claims, lifetime)

    def id_token(
        self,
        tenant: Tenant,
        user: User,
        client_id: str,
        nonce: str,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> str:
        """A v2 ID token for `client_id` (the app the user signed in to): who the user is,
        never what they may call (no `scp`)."""
        claims: dict[str, object] = {
            "oid": user.oid,
            "sub": str(uuid.uuid5(uuid.UUID(user.oid), client_id)),
            "name": user.display_name,
            "preferred_username": user.upn(tenant.domain),
            "nonce": nonce,
        }
        return self.signer.issue(tenant.tenant_id, client_id, claims, lifetime)
