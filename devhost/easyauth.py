"""App Service Authentication (Easy Auth) as the local host emulates it.

In Azure the platform sits in front of the app: it owns `/.auth/*`, keeps a session
cookie, strips any `X-MS-CLIENT-PRINCIPAL*` / `X-MS-TOKEN-*` headers a client sends, and
injects its own for a signed-in session: the principal, and with the token store on, the
user's tokens. This module does the same for the demo users, so the app runs the same
code locally as behind the real thing.

The principal is built as Azure builds it for a cookie session: from the **ID token's**
claims (no `scp`), their types mapped the way the platform maps them (`oid` becomes
`http://schemas.microsoft.com/identity/claims/objectidentifier`, ...), in the documented
shape `{auth_typ, claims: [{typ, val}], name_typ, role_typ}`.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt

SESSION_COOKIE = "AppServiceAuthSession"
INJECTED_PREFIXES = ("x-ms-client-principal", "x-ms-token-")
NAME_TYPE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
# How App Service names the ID token's claims in the principal (the inbound claim map of
# its token handler); the others keep their JWT names.
MAPPED_TYPES = {
    "oid": "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "tid": "http://schemas.microsoft.com/identity/claims/tenantid",
    "sub": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "upn": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "roles": ROLE_TYPE,
    "scp": "http://schemas.microsoft.com/identity/claims/scope",
}

# user name -> a token signed by the local Entra (an ID token; an access token for our API).
TokenIssuer = Callable[[str], str]


@dataclass(frozen=True)
class Session:
    user: str
    id_token: str
    access_token: str | None
    claims: dict[str, Any]  # the ID token's
    expires_on: float


def principal_claims(claims: Mapping[str, Any]) -> list[dict[str, str]]:
    """`[{typ, val}]` as App Service lists a token's claims (one entry per list item)."""
    listed: list[dict[str, str]] = []
    for name, value in claims.items():
        typ = MAPPED_TYPES.get(name, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int) and not isinstance(item, bool):
                listed.append({"typ": typ, "val": str(item)})
    return listed


@dataclass
class AuthReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


def _safe_redirect(target: str | None, default: str) -> str:
    """Only same-site relative paths: an open redirect would hand sessions to anyone."""
    if not target:
        return default
    # Browsers read `\` as `/` and drop tabs and newlines in URLs: `/\evil.example` and
    # `/\t/evil.example` resolve to another host, as `//evil.example` does.
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class EasyAuth:
    """`issue_id_token` signs a demo user in; `issue_access_token` (the token store) adds
    the user's access token for our API to the injected headers and /.auth/me."""

    def __init__(
        self,
        issue_id_token: TokenIssuer,
        users: tuple[str, ...],
        *,
        issue_access_token: TokenIssuer | None = None,
    ) -> None:
        self._issue = issue_id_token
        self._issue_access = issue_access_token
        self._users = users
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    # -- request filtering ---------------------------------------------------------------

    def inbound_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Strip client-sent platform headers; add ours for a live session."""
        clean = {k: v for k, v in headers.items() if not k.lower().startswith(INJECTED_PREFIXES)}
        session = self._session(headers)
        if session is None:
            return clean
        principal = {
            "auth_typ": "aad",
            "claims": principal_claims(session.claims),
            "name_typ": NAME_TYPE,
            "role_typ": ROLE_TYPE,
        }
        clean["x-ms-client-principal"] = base64.b64encode(json.dumps(principal).encode()).decode()
        clean["x-ms-client-principal-id"] = str(session.claims.get("oid", ""))
        clean["x-ms-client-principal-name"] = str(session.claims.get("preferred_username", ""))
        clean["x-ms-client-principal-idp"] = "aad"
        clean["x-ms-token-aad-id-token"] = session.id_token
        if session.access_token is not None:
            clean["x-ms-token-aad-access-token"] = session.access_token
        return clean

    # -- /.auth/* ---------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path == "/.auth" or path.startswith("/.auth/")

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> AuthReply:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.rstrip("/")
        if path == "/.auth/login/aad" and method in ("GET", "POST"):
            return self._login(query)
        if path == "/.auth/me" and method == "GET":
            return self._me(headers)
        if path == "/.auth/logout" and method in ("GET", "POST"):
            return self._logout(headers, query)
        return AuthReply(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not found")

    def _login(self, query: dict[str, str]) -> AuthReply:
        redirect = _safe_redirect(query.get("post_login_redirect_uri"), "/")
        user = query.get("user")
        if user is None:
            return self._chooser(redirect)
        if user not in self._users:
            return AuthReply(
                400, [("Content-Type", "text/plain; charset=utf-8")], b"Unknown demo user"
            )
        id_token = self._issue(user)
        access_token = self._issue_access(user) if self._issue_access else None
        claims = jwt.decode(id_token, options={"verify_signature": False})
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = Session(
                user, id_token, access_token, claims, float(claims["exp"])
            )
        cookie = f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"
        return AuthReply(302, [("Location", redirect), ("Set-Cookie", cookie)])

    def _chooser(self, redirect: str) -> AuthReply:
        links = "".join(
            f'<li><a href="/.auth/login/aad?user={quote(u)}'
            f'&amp;post_login_redirect_uri={html.escape(quote(redirect, safe=""))}">'
            f"{html.escape(u)}</a></li>"
            for u in self._users
        )
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in</title>"
            "</head><body><h1>Sign in (local Entra ID)</h1><p>Choose a demo user:</p>"
            f"<ul>{links}</ul></body></html>"
        )
        return AuthReply(
            200,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
            ],
            page.encode(),
        )

    def _me(self, headers: Mapping[str, str]) -> AuthReply:
        session = self._session(headers)
        if session is None:
            return AuthReply(401, [("Content-Type", "application/json")], b"[]")
        entry: dict[str, Any] = {
            "id_token": session.id_token,
            "expires_on": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(session.expires_on)),
            "provider_name": "aad",
            "user_id": session.claims.get("preferred_username", session.user),
            "user_claims": principal_claims(session.claims),
        }
        if session.access_token is not None:
            entry["access_token"] = session.access_token
        body = [entry]
        return AuthReply(200, [("Content-Type", "application/json")], json.dumps(body).encode())

    def _logout(self, headers: Mapping[str, str], query: dict[str, str]) -> AuthReply:
        session_id = self._cookie(headers)
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)
        redirect = _safe_redirect(query.get("post_logout_redirect_uri"), "/.auth/login/aad")
        expired = f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        return AuthReply(302, [("Location", redirect), ("Set-Cookie", expired)])

    # -- sessions -----------------------------------------------------------------------------

    @staticmethod
    def _cookie(headers: Mapping[str, str]) -> str | None:
        raw = headers.get("cookie")
        if not raw:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:  # noqa: BLE001 - a malformed cookie header is no session
            return None
        morsel = jar.get(SESSION_COOKIE)
        return morsel.value if morsel else None

    def _session(self, headers: Mapping[str, str]) -> Session | None:
        session_id = self._cookie(headers)
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires_on < time.time():
                del self._sessions[session_id]
                return None
        return session
