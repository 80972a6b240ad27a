"""Bearer token checks in front of every Graph route, and permission tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from localcloud.directory import Directory
from localcloud.graph.errors import graph_error
from localcloud.seed import GRAPH_APP_ID, GRAPH_RESOURCE, Tenant
from localcloud.tokens import TokenSigner
from localcloud.wire import Request, Response

WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    f'authorize", client_id="{GRAPH_APP_ID}"'
)


@dataclass(frozen=True)
class Principal:
    tenant: Tenant
    claims: dict[str, Any]

    @property
    def is_app(self) -> bool:
        return "scp" not in self.claims

    @property
    def permissions(self) -> set[str]:
        if self.is_app:
            return set(self.claims.get("roles", []))
        return set(str(self.claims.get("scp", "")).split())

    def has_any(self, *permissions: str) -> bool:
        return bool(self.permissions & set(permissions))


def _unauthorized(message: str) -> Response:
    return graph_error(
        401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": WWW_AUTHENTICATE}
    )


def authenticate(
    request: Request, signer: TokenSigner, directory: Directory
) -> Principal | Response:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Access token is empty.")
    try:
        claims = signer.verify(token.strip(), audiences=[GRAPH_RESOURCE, GRAPH_APP_ID])
    except jwt.ExpiredSignatureError:
        return _unauthorized("Lifetime validation failed, the token is expired.")
    except jwt.InvalidAudienceError:
        return _unauthorized("Access token validation failure. Invalid audience.")
    except jwt.PyJWTError:
        return _unauthorized("IDX14100: JWT is not well formed or its signature is invalid.")
    tenant = directory.tenants.get(str(claims.get("tid")))
    if tenant is None:
        return _unauthorized("Access token validation failure. Invalid issuer.")
    return Principal(tenant=tenant, claims=claims)
