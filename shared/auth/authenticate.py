"""From request headers to a Caller: a bearer token, or (only if trusted) Easy Auth's principal."""

from __future__ import annotations

from collections.abc import Mapping

from shared.auth.caller import Caller
from shared.auth.errors import Unauthenticated
from shared.auth.principal import caller_from_principal
from shared.auth.tokens import TokenValidator


class Authenticator:
    def __init__(self, tokens: TokenValidator, *, trust_app_service_principal: bool) -> None:
        self._tokens = tokens
        self._trust_principal = trust_app_service_principal

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """`headers` with lower-case names. Raises Unauthenticated.

        A bearer token wins over the principal header: App Service also builds a principal
        from a bearer it validated, but only the token itself can be exchanged
        on-behalf-of (the principal of a cookie session never is).
        """
        authorization = (headers.get("authorization") or "").strip()
        if self._trust_principal and not authorization:
            caller = caller_from_principal(headers)
            if caller is not None:
                # App Service signs in whoever its provider allows: the tenant rule is ours.
                if not self._tokens.trusts_tenant(caller.home_tenant_id):
                    raise Unauthenticated("the signed-in tenant is not trusted")
                return caller
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("a bearer token is required")
        return self._tokens.caller(token.strip())
