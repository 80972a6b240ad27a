"""Entra ID access tokens for our API, validated with PyJWT against the authority's JWKS.

Checked: RS256 only, the signature (key by `kid` from `{authority}/{tid}/discovery/v2.0/keys`),
issuer `{authority}/{tid}/v2.0` (v2 tokens: the API's accessTokenAcceptedVersion is 2), a
trusted `tid`, the audience (App ID URI or client id), `exp` and `nbf` (small leeway).
The tenant is checked before any key is fetched, so a forged `tid` cannot make us fetch
keys from arbitrary tenants. Each tenant's key set is cached (PyJWKClient: refreshed after
`JWKS_LIFESPAN`, re-fetched on an unknown `kid` at most once per cooldown).
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import jwt

from shared.auth.caller import Caller, CallerKind
from shared.auth.errors import Unauthenticated
from shared.runs.identity import normalize_tenant_id

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60
JWKS_LIFESPAN = 3600.0
JWKS_TIMEOUT = 10.0
# An unknown kid refetches the set (key rollover), but not more often than this.
JWKS_COOLDOWN = 60.0
MAX_TOKEN_CHARS = 16 * 1024
# Tokens already validated, kept until they expire (least recently used dropped first).
VALIDATED_CACHE_SIZE = 4096


class TokenValidator:
    def __init__(
        self,
        *,
        authority_base_url: str,
        audiences: Iterable[str],
        trusted_tenants: Iterable[str],
        ca_bundle: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = authority_base_url.rstrip("/")
        self._clock = clock
        if urlsplit(base).scheme != "https":
            raise ValueError("the Entra authority must be an https URL")
        self._base = base
        self._audiences = [a for a in audiences if a]
        tenants = {t.strip().lower() for t in trusted_tenants if t.strip()}
        self._any_tenant = "*" in tenants
        self._tenants = frozenset(t for t in tenants if normalize_tenant_id(t))
        self._ssl = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
        self._lock = threading.Lock()
        self._jwks: dict[str, jwt.PyJWKClient] = {}
        self._validated: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def _keys(self, tenant_id: str) -> jwt.PyJWKClient:
        with self._lock:
            client = self._jwks.get(tenant_id)
            if client is None:
                client = jwt.PyJWKClient(
                    f"{self._base}/{tenant_id}/discovery/v2.0/keys",
                    cache_jwk_set=True,
                    lifespan=JWKS_LIFESPAN,
                    timeout=JWKS_TIMEOUT,
                    ssl_context=self._ssl,
                    cooldown_duration=JWKS_COOLDOWN,
                )
                self._jwks[tenant_id] = client
            return client

    def issuer(self, tenant_id: str) -> str:
        return f"{self._base}/{tenant_id}/v2.0"

    def validate(self, token: str) -> dict[str, Any]:
        """The token's claims, or Unauthenticated saying (briefly) why not.

        A token that passed is remembered (by its SHA-256) until it expires: a portal sends
        the same token on every request, and re-checking its signature each time costs more
        than the storage work of a start.
        """
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("the bearer token is missing or too long")
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        with self._lock:
            cached = self._validated.get(digest)
            if cached is not None:
                self._validated.move_to_end(digest)
        if cached is not None and cached.get("exp", 0) + LEEWAY_SECONDS > self._clock():
            return cached
        claims = self._validate(token)
        with self._lock:
            self._validated[digest] = claims
            while len(self._validated) > VALIDATED_CACHE_SIZE:
                self._validated.popitem(last=False)
        return claims

    def _validate(self, token: str) -> dict[str, Any]:
        if not self._audiences:
            raise Unauthenticated("the API audience is not configured")
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("the bearer token is missing or too long")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("the bearer token's algorithm is not accepted")
        tenant_id = normalize_tenant_id(str(unverified.get("tid") or ""))
        if tenant_id is None or not (self._any_tenant or tenant_id in self._tenants):
            raise Unauthenticated("the bearer token's tenant is not trusted")
        try:
            key = self._keys(tenant_id).get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise Unauthenticated("the signing keys could not be fetched") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token's signing key is unknown") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._audiences,
                issuer=self.issuer(tenant_id),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "nbf", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the bearer token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the bearer token is not for this API") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the bearer token's issuer is not accepted") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not valid") from None
        return claims

    def caller(self, token: str) -> Caller:
        claims = self.validate(token)
        return caller_from_claims(claims, assertion=token)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _is_signed_in_user(claims: dict[str, Any]) -> bool:
    """An ID token's claims name a person (a username); an app's never do."""
    if str(claims.get("idtyp") or "").lower() == "app":
        return False
    return bool(claims.get("preferred_username") or claims.get("upn"))


def caller_from_claims(
    claims: dict[str, Any], *, assertion: str | None, session: bool = False
) -> Caller:
    """`scp` makes a delegated (user) caller; `roles` alone an app-only caller.

    `session`: the claims come from App Service Authentication's principal for a cookie
    session, which Azure builds from the user's *ID token*: no `scp`, possibly `roles`
    (app roles assigned to the user). Such a person is a user without a delegated token.
    """
    oid = normalize_tenant_id(str(claims.get("oid") or ""))  # an object id is a GUID too
    if oid is None:
        raise Unauthenticated("the token names no object id")
    scopes, roles = _strings(claims.get("scp")), _strings(claims.get("roles"))
    if scopes or (session and _is_signed_in_user(claims)):
        kind = CallerKind.USER
    elif roles:
        kind = CallerKind.APP
    else:
        raise Unauthenticated("the token carries neither delegated scopes nor app roles")
    username = claims.get("preferred_username") or claims.get("upn")
    name = claims.get("name") or claims.get("app_displayname") or ""
    return Caller(
        oid=oid,
        kind=kind,
        name=str(name)[:200],
        username=str(username)[:320] if username and kind is CallerKind.USER else None,
        home_tenant_id=normalize_tenant_id(str(claims.get("tid") or "")),
        scopes=scopes,
        roles=roles,
        delegated_assertion=assertion if kind is CallerKind.USER else None,
    )
