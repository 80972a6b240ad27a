"""Graph tokens through msal: one ConfidentialClientApplication per (tenant, client).

Keeping the msal app object alive keeps its in-memory token cache alive, so a worker
asks Entra for a token about once an hour per tenant instead of once per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import msal
from msal.exceptions import MsalServiceError

from shared.graph.credentials import GRAPH_DEFAULT_SCOPE, GraphCredentials
from shared.graph.errors import (
    DelegatedTokenUnavailable,
    GraphAuthError,
    GraphTransientError,
)
from shared.graph.msal_http import MsalHttpClient
from shared.graph.obo_cache import OboCache
from shared.graph.tls import verify_for

ENTRA_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
TRANSIENT_ENTRA_ERRORS = frozenset({"temporarily_unavailable", "server_error"})

AppKey = tuple[str, str, str, str]


class MsalApps:
    """Thread-safe registry of msal apps (and the httpx clients msal talks through)."""

    def __init__(self, timeout: httpx.Timeout = ENTRA_TIMEOUT) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()
        self._apps: dict[AppKey, Any] = {}
        self._building: dict[AppKey, threading.Lock] = {}
        self._http: dict[str, httpx.Client] = {}
        self.obo_cache = OboCache()

    def app(self, credentials: GraphCredentials) -> Any:
        """The cached msal ConfidentialClientApplication for these credentials."""
        key = credentials.cache_key
        with self._lock:
            if key in self._apps:
                return self._apps[key]
            building = self._building.setdefault(key, threading.Lock())
        # Building reads the authority's metadata over the network: one tenant's slow
        # Entra must not block the others, so each key has its own lock.
        with building:
            with self._lock:
                if key in self._apps:
                    return self._apps[key]
            app = self._build(credentials)
            with self._lock:
                self._apps[key] = app
            return app

    def _build(self, credentials: GraphCredentials) -> Any:
        http = self._http_client(credentials.ca_bundle)
        try:
            return msal.ConfidentialClientApplication(
                credentials.client_id,
                client_credential=credentials.msal_credential(),
                authority=credentials.authority,
                http_client=MsalHttpClient(http),
                # Instance discovery asks login.microsoftonline.com about the authority
                # host: only meaningful (and reachable) for the public cloud.
                instance_discovery=None if credentials.is_public_cloud else False,
            )
        except httpx.TransportError as error:
            raise GraphTransientError(
                f"Entra metadata for tenant {credentials.tenant_id} unreachable "
                f"({type(error).__name__})"
            ) from None
        except MsalServiceError:
            # msal raises this for a 5xx answer to its metadata request.
            raise GraphTransientError(
                f"Entra metadata for tenant {credentials.tenant_id} failed with a server error"
            ) from None
        except ValueError:
            # msal: discovery answered 4xx (unknown tenant) or the credential is unusable.
            raise GraphAuthError(
                f"Entra authority for tenant {credentials.tenant_id} rejected or unknown"
            ) from None

    def _http_client(self, ca_bundle: str | None) -> httpx.Client:
        with self._lock:
            key = ca_bundle or ""
            if key not in self._http:
                self._http[key] = httpx.Client(timeout=self._timeout, verify=verify_for(ca_bundle))
            return self._http[key]

    def close(self) -> None:
        with self._lock:
            clients, self._http = list(self._http.values()), {}
            self._apps.clear()
        self.obo_cache.clear()
        for client in clients:
            client.close()


_default_apps: MsalApps | None = None
_default_lock = threading.Lock()


def default_apps() -> MsalApps:
    """The process-wide registry (workers live long; their token caches should too)."""
    global _default_apps
    with _default_lock:
        if _default_apps is None:
            _default_apps = MsalApps()
        return _default_apps


def _entra_call(
    credentials: GraphCredentials, what: str, call: Callable[[], Any]
) -> dict[str, Any]:
    try:
        result = call()
    except httpx.TransportError as error:
        raise GraphTransientError(
            f"Entra {what} for tenant {credentials.tenant_id} unreachable ({type(error).__name__})"
        ) from None
    except MsalServiceError:
        # msal raises this for a 5xx answer from the token endpoint.
        raise GraphTransientError(
            f"Entra {what} for tenant {credentials.tenant_id} failed with a server error"
        ) from None
    if not isinstance(result, dict):
        raise GraphAuthError(f"Entra {what} for tenant {credentials.tenant_id}: no result")
    return result


def _describe(result: dict[str, Any]) -> str:
    """Entra's error and AADSTS code only: the description is long and not ours to log."""
    codes = result.get("error_codes") or []
    code = f" AADSTS{codes[0]}" if codes else ""
    return f"{result.get('error', 'unknown_error')}{code}"


class TokenProvider:
    """Tokens for one set of credentials (one managed tenant, one app)."""

    def __init__(self, credentials: GraphCredentials, apps: MsalApps | None = None) -> None:
        self.credentials = credentials
        self._apps = apps or default_apps()

    def app_token(self, scopes: Sequence[str] = (GRAPH_DEFAULT_SCOPE,)) -> str:
        """An app-only access token (client credentials), from msal's cache when fresh."""
        creds = self.credentials
        app = self._apps.app(creds)
        result = _entra_call(
            creds, "token request", lambda: app.acquire_token_for_client(scopes=list(scopes))
        )
        token = result.get("access_token")
        if isinstance(token, str):
            return token
        text = (
            f"No Graph token for tenant {creds.tenant_id} client {creds.client_id}: "
            f"{_describe(result)}"
        )
        if result.get("error") in TRANSIENT_ENTRA_ERRORS:
            raise GraphTransientError(text)
        raise GraphAuthError(text, status=401, graph_code=str(result.get("error")))

    def on_behalf_of(self, user_assertion: str, scopes: Sequence[str]) -> str:
        """A delegated Graph token for the user behind `user_assertion` (their API token)."""
        creds = self.credentials
        if not user_assertion:
            raise DelegatedTokenUnavailable("No user token to exchange", reason="no_assertion")
        cache_key = OboCache.key(creds.cache_key, user_assertion, scopes)
        cached = self._apps.obo_cache.get(cache_key)
        if cached is not None:
            return cached
        try:
            app = self._apps.app(creds)
        except GraphAuthError as error:
            raise DelegatedTokenUnavailable(error.message, reason="authority") from None
        result = _entra_call(
            creds,
            "on-behalf-of request",
            lambda: app.acquire_token_on_behalf_of(user_assertion, list(scopes)),
        )
        token = result.get("access_token")
        if isinstance(token, str):
            expires_in = result.get("expires_in")
            if isinstance(expires_in, int | float):
                self._apps.obo_cache.put(cache_key, token, float(expires_in))
            return token
        if result.get("error") in TRANSIENT_ENTRA_ERRORS:
            raise GraphTransientError(f"On-behalf-of unavailable for tenant {creds.tenant_id}")
        reason = str(result.get("suberror") or result.get("error") or "unknown_error")
        raise DelegatedTokenUnavailable(
            f"No delegated Graph token for tenant {creds.tenant_id}: {_describe(result)}",
            reason=reason,
        )


def acquire_on_behalf_of(
    credentials: GraphCredentials,
    user_assertion: str,
    scopes: Sequence[str],
    apps: MsalApps | None = None,
) -> str:
    """A delegated Graph token, or DelegatedTokenUnavailable (GraphTransientError if Entra
    is unreachable)."""
    return TokenProvider(credentials, apps).on_behalf_of(user_assertion, scopes)
