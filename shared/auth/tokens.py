"""Entra ID access tokens for our API, validated with PyJWT against the authority's JWKS.

Checked: RS256 only, the signature (key by `kid`), issuer `{authority}/{tid}/v2.0` (v2
tokens: the API's accessTokenAcceptedVersion is 2), a trusted `tid`, the audience (App ID
URI or client id), `exp` and `nbf` (small leeway), and that it is an access token: ID
tokens carry no `azp`, and one whose audience is our client id must not sign anyone in.

The tenant is checked before any key is fetched. The keys come from a bounded number of
key sets, whatever the tokens say: one per listed trusted tenant
(`{authority}/{tid}/discovery/v2.0/keys`), or, when any tenant is trusted (`*`), the one
multi-tenant set (`{authority}/common/discovery/v2.0/keys`, Entra's keys for every tenant
without signing keys of its own; the issuer stays bound to the token's `tid`). So a flood
of forged tokens with random tenants costs no key fetch per token. Each set is refreshed
after `JWKS_LIFESPAN`, re-fetched on an unknown `kid` at most once per `JWKS_COOLDOWN`, and
a failed fetch is not retried for `FAILED_FETCH_BACKOFF`.
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
# After a failed fetch, the set answers from what it has (or fails) for this long.
FAILED_FETCH_BACKOFF = 30.0
# The key set serving any tenant when every tenant is trusted.
MULTI_TENANT_KEYS = "common"
MAX_TOKEN_CHARS = 16 * 1024
# Tokens already validated, kept until they expire (least recently used dropped first).
VALIDATED_CACHE_SIZE = 4096


class _KeySet(jwt.PyJWKClient):
    """One JWKS endpoint's keys. A failed fetch is remembered: until FAILED_FETCH_BACKOFF
    has passed, a token needing a fetch fails at once instead of calling the endpoint."""

    def __init__(
        self, uri: str, ssl_context: ssl.SSLContext | None, clock: Callable[[], float]
    ) -> None:
        super().__init__(
            uri,
            cache_jwk_set=True,
            lifespan=JWKS_LIFESPAN,
            timeout=JWKS_TIMEOUT,
            ssl_context=ssl_context,
            cooldown_duration=JWKS_COOLDOWN,
        )
        self._clock = clock
        self._retry_at = 0.0

    def fetch_data(self) -> Any:
        if self._clock() < self._retry_at:
            raise jwt.PyJWKClientConnectionError("the last key fetch failed recently")
        try:
            return super().fetch_data()
        except jwt.PyJWTError:
            self._retry_at = self._clock() + FAILED_FETCH_BACKOFF
            raise


class TokenValidator:
    def __init__(
        self,
        *,
        authority_base_url: str,
        audiences: Iterable[str],
        trusted_tenants: Iterable[str],
        ca_bundle: str | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
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
        self._monotonic = monotonic
        self._jwks: dict[str, _KeySet] = {}
        self._validated: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def trusts_tenant(self, tenant_id: str | None) -> bool:
        """The one trusted-tenant rule, for bearer tokens and App Service principals alike."""
        tenant = normalize_tenant_id(tenant_id or "")
        return tenant is not None and (self._any_tenant or tenant in self._tenants)

    @property
    def key_sets(self) -> int:
        """How many key sets are held: at most one per listed tenant, or one for `*`."""
        with self._lock:
            return len(self._jwks)

    def _keys(self, tenant_id: str) -> _KeySet:
        # Only a trusted tenant gets here, so the listed tenants bound the number of sets.
        name = MULTI_TENANT_KEYS if self._any_tenant else tenant_id
        with self._lock:
            client = self._jwks.get(name)
            if client is None:
                client = _KeySet(
                    f"{self._base}/{name}/discovery/v2.0/keys", self._ssl, self._monotonic
                )
                self._jwks[name] = client
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
        if tenant_id is None or not self.trusts_tenant(tenant_id):
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
        if not claims.get("azp"):
            # Every v2 access token names its client (`azp`); an ID token does not.
            raise Unauthenticated("the bearer token is not an access token")
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
