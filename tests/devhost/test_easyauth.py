"""The local App Service Authentication: /.auth endpoints, session cookie, header hygiene."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import jwt
import pytest

from devhost.easyauth import SESSION_COOKIE, EasyAuth

OID_TYPE = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def _issuer(user: str) -> str:
    """An ID token's claims: no scp, an app role assigned to the user."""
    claims = {
        "oid": f"oid-{user}",
        "name": f"Name {user}",
        "preferred_username": f"{user}@x",
        "exp": int(time.time()) + 3600,
        "roles": ["Operations.Read", "Operations.Start"],
    }
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


def _access(user: str) -> str:
    return jwt.encode({"oid": f"oid-{user}", "scp": "access_as_user"}, "k" * 32, "HS256")


def _login(auth: EasyAuth, user: str = "operator", redirect: str = "/monitoring/") -> str:
    reply = auth.handle(
        "GET", f"/.auth/login/aad?user={user}&post_login_redirect_uri={redirect}", {}
    )
    assert reply.status == 302
    cookie = dict(reply.headers)["Set-Cookie"]
    assert "HttpOnly" in cookie and cookie.startswith(SESSION_COOKIE + "=")
    return cookie.split(";")[0]


def test_login_page_offers_the_demo_users_and_escapes_the_redirect() -> None:
    auth = EasyAuth(_issuer, ("operator", "viewer"))
    reply = auth.handle("GET", '/.auth/login/aad?post_login_redirect_uri=/x"><script>', {})
    page = reply.body.decode()
    assert reply.status == 200 and "user=operator" in page and "user=viewer" in page
    assert "<script>" not in page


def test_login_sets_a_session_and_honours_only_relative_redirects() -> None:
    auth = EasyAuth(_issuer, ("operator",))
    reply = auth.handle(
        "GET", "/.auth/login/aad?user=operator&post_login_redirect_uri=/monitoring/#/x", {}
    )
    assert dict(reply.headers)["Location"] == "/monitoring/"  # the fragment never reaches a server
    for evil in ("https://evil.test/", "//evil.test/", "javascript:alert(1)"):
        reply = auth.handle(
            "GET", f"/.auth/login/aad?user=operator&post_login_redirect_uri={evil}", {}
        )
        assert dict(reply.headers)["Location"] == "/"
    assert auth.handle("GET", "/.auth/login/aad?user=mallory", {}).status == 400


def test_me_reflects_the_session_and_logout_ends_it() -> None:
    auth = EasyAuth(_issuer, ("operator",))
    assert auth.handle("GET", "/.auth/me", {}).status == 401
    cookie = _login(auth)
    me = json.loads(auth.handle("GET", "/.auth/me", {"cookie": cookie}).body)
    claims = {c["typ"]: c["val"] for c in me[0]["user_claims"]}
    assert claims[OID_TYPE] == "oid-operator" and me[0]["provider_name"] == "aad"
    assert "access_token" not in me[0]  # no token store configured
    out = auth.handle(
        "GET", "/.auth/logout?post_logout_redirect_uri=/monitoring/", {"cookie": cookie}
    )
    assert out.status == 302 and "Max-Age=0" in dict(out.headers)["Set-Cookie"]
    assert auth.handle("GET", "/.auth/me", {"cookie": cookie}).status == 401


def test_client_sent_principal_headers_are_stripped_and_ours_injected() -> None:
    auth = EasyAuth(_issuer, ("operator",), issue_access_token=_access)
    forged = {
        "x-ms-client-principal": "Zm9yZ2Vk",
        "x-ms-token-aad-access-token": "forged",
        "x-ms-client-principal-id": "admin",
        "accept": "application/json",
    }
    assert auth.inbound_headers(forged) == {"accept": "application/json"}
    cookie = _login(auth)
    injected = auth.inbound_headers({**forged, "cookie": cookie})
    principal = json.loads(base64.b64decode(injected["x-ms-client-principal"]))
    # The documented shape, from the ID token: mapped claim types, no scope, one entry
    # per role.
    assert set(principal) == {"auth_typ", "claims", "name_typ", "role_typ"}
    assert principal["auth_typ"] == "aad"
    assert principal["name_typ"] == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    assert principal["role_typ"] == "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    assert {"typ": OID_TYPE, "val": "oid-operator"} in principal["claims"]
    roles = [c["val"] for c in principal["claims"] if c["typ"] == principal["role_typ"]]
    assert roles == ["Operations.Read", "Operations.Start"]
    assert not any("scope" in c["typ"] or c["typ"] == "scp" for c in principal["claims"])
    assert injected["x-ms-client-principal-id"] == "oid-operator"
    assert injected["x-ms-token-aad-access-token"] != "forged"
    assert (
        auth.inbound_headers({"cookie": f"{SESSION_COOKIE}=guess"}).get("x-ms-client-principal")
        is None
    )


@pytest.mark.parametrize(
    "evil",
    [
        "/\\evil.example/",
        "/\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "///evil.example",
    ],
)
def test_backslash_and_scheme_relative_redirects_are_refused(evil: str) -> None:
    auth = EasyAuth(_issuer, ("operator",))
    target = quote(evil, safe="")
    login = auth.handle(
        "GET", f"/.auth/login/aad?user=operator&post_login_redirect_uri={target}", {}
    )
    assert dict(login.headers)["Location"] == "/"
    logout = auth.handle("GET", f"/.auth/logout?post_logout_redirect_uri={target}", {})
    assert dict(logout.headers)["Location"] == "/.auth/login/aad"
