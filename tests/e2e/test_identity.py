"""Who may call what: the identity matrix (three users and an app x every route x both
demo tenants), token validation failures, and the App Service principal header."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud.seed import (
    API_AUDIENCE,
    API_CLIENT_ID,
    CONTOSO_TENANT_ID,
    FABRIKAM_TENANT_ID,
    OPERATOR_OID,
    VIEWER_OID,
)
from shared.composition import root

from .conftest import OIDS, SEEDED_ROLES, Stack

NOOP = "diagnostics.noop"
CALLERS = ("operator", "viewer", "outsider", "app")
TENANTS = (CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID)


@pytest.fixture(scope="module")
def finished_runs(stack: Stack) -> dict[str, str]:
    """A completed (cancelled) run in each demo tenant."""
    runs = {}
    with stack.client("operator") as http:
        for tenant in TENANTS:
            run = http.post(
                f"/api/tenants/{tenant}/operations",
                json={"type": NOOP, "inputs": {"label": f"matrix-{time.monotonic_ns()}"}},
            ).json()["run"]
            http.post(f"/api/tenants/{tenant}/operations/{run['id']}/cancel")
            runs[tenant] = run["id"]
    return runs


def expected(who: str, tenant: str, route: str) -> set[int]:
    role = SEEDED_ROLES.get((who, tenant))
    if role is None:
        return {404}
    if route in ("start", "cancel") and not role.may_write:
        return {403}
    if route == "groups" and who == "app":
        return {403}
    return {"start": {200, 202}, "cancel": {409}}.get(route, {200})


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("tenant", TENANTS)
@pytest.mark.parametrize("route", ["list", "detail", "start", "cancel", "groups"])
def test_identity_matrix(
    stack: Stack, finished_runs: dict[str, str], who: str, tenant: str, route: str
) -> None:
    run_id = finished_runs[tenant]
    base = f"/api/tenants/{tenant}"
    with stack.client(who) as http:
        reply = {
            "list": lambda: http.get(f"{base}/operations"),
            "detail": lambda: http.get(f"{base}/operations/{run_id}"),
            "start": lambda: http.post(
                f"{base}/operations", json={"type": NOOP, "inputs": {"label": "matrix"}}
            ),
            "cancel": lambda: http.post(f"{base}/operations/{run_id}/cancel"),
            "groups": lambda: http.get(f"{base}/directory/groups", params={"search": "a"}),
        }[route]()
    assert reply.status_code in expected(who, tenant, route), reply.text
    if reply.status_code >= 400:
        assert set(reply.json()) == {"error"}
    if reply.status_code == 403 and route == "groups":
        assert reply.json()["error"]["code"] == "delegated_token_required"


@pytest.mark.parametrize("who", CALLERS)
def test_my_tenants_and_catalogue(stack: Stack, who: str) -> None:
    with stack.client(who) as http:
        tenants = http.get("/api/tenants")
        catalogue = http.get("/api/operation-types")
    assert tenants.status_code == 200 and catalogue.status_code == 200
    items = {i["tenant_id"]: i for i in tenants.json()["items"]}
    want = {t: r for (w, t), r in SEEDED_ROLES.items() if w == who}
    assert {t: i["role"] for t, i in items.items() if t in TENANTS} == {
        t: r.value for t, r in want.items()
    }
    for item in items.values():
        assert item["group_search_enabled"] is (who != "app")
    if CONTOSO_TENANT_ID in items:
        assert items[CONTOSO_TENANT_ID]["name"] == "Contoso"
    entry = next(e for e in catalogue.json()["items"] if e["type"] == NOOP)
    assert entry["title"] and entry["inputs_schema"]["type"] == "object"


def _forged(claims: dict[str, Any], key: Any, kid: str, alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _base_claims(stack: Stack, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "aud": API_AUDIENCE,
        "iss": stack.cloud.signer.issuer(CONTOSO_TENANT_ID),
        "tid": CONTOSO_TENANT_ID,
        "oid": OPERATOR_OID,
        "scp": "access_as_user",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "name": "Olivia Operator",
    }
    claims.update(over)
    return claims


def bad_tokens(stack: Stack) -> dict[str, str]:
    cloud = stack.cloud
    signer = cloud.signer
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = cloud.issue_user_token("operator")
    head, _body, sig = good.split(".")
    tampered_body = (
        base64.urlsafe_b64encode(
            json.dumps(
                {**jwt.decode(good, options={"verify_signature": False}), "oid": VIEWER_OID}
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    return {
        "wrong audience": cloud.issue_user_token("operator", audience="api://someone-else"),
        "graph audience": cloud.issue_user_token(
            "operator", audience="https://graph.microsoft.com"
        ),
        "expired": cloud.issue_user_token("operator", lifetime=-300),
        "not yet valid": signer.issue(
            CONTOSO_TENANT_ID,
            API_AUDIENCE,
            {"oid": OPERATOR_OID, "scp": "x"},
            now=time.time() + 900,
        ),
        "wrong issuer": signer.issue(
            CONTOSO_TENANT_ID,
            API_AUDIENCE,
            {"oid": OPERATOR_OID, "scp": "x", "iss": "https://evil.example/x/v2.0"},
        ),
        "issuer of another tenant": signer.issue(
            CONTOSO_TENANT_ID,
            API_AUDIENCE,
            {"oid": OPERATOR_OID, "scp": "x", "iss": signer.issuer(FABRIKAM_TENANT_ID)},
        ),
        "untrusted tenant": signer.issue(
            "9c9c9c9c-9c9c-4c9c-8c9c-9c9c9c9c9c9c", API_AUDIENCE, {"oid": OPERATOR_OID, "scp": "x"}
        ),
        "bad signature": _forged(_base_claims(stack), other_key, signer.kid),
        "tampered body": f"{head}.{tampered_body}.{sig}",
        "hs256": _forged(
            _base_claims(stack), "secret-secret-secret-secret-32b!", signer.kid, "HS256"
        ),
        "alg none": _forged(_base_claims(stack), None, signer.kid, "none"),
        "unknown kid": _forged(_base_claims(stack), other_key, "no-such-kid"),
        "no scp no roles": signer.issue(CONTOSO_TENANT_ID, API_AUDIENCE, {"oid": OPERATOR_OID}),
        # An ID token for our client id, with an app role assigned to the user: no `azp`.
        "id token": signer.issue(
            CONTOSO_TENANT_ID,
            API_CLIENT_ID,
            {"oid": OPERATOR_OID, "roles": ["Operations"], "nonce": "n", "name": "Olivia"},
        ),
        "no oid": signer.issue(CONTOSO_TENANT_ID, API_AUDIENCE, {"scp": "x"}),
        "garbage": "not.a.jwt",
    }


def test_invalid_tokens_are_401_on_every_protected_route(stack: Stack) -> None:
    tokens = bad_tokens(stack)
    routes = [
        ("GET", "/api/tenants"),
        ("GET", "/api/operation-types"),
        ("GET", f"/api/tenants/{CONTOSO_TENANT_ID}/operations"),
        ("POST", f"/api/tenants/{CONTOSO_TENANT_ID}/operations"),
        ("GET", f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups?search=a"),
    ]
    for name, token in tokens.items():
        with stack.client(token=token) as http:
            for method, path in routes:
                reply = http.request(
                    method, path, json={"type": NOOP} if method == "POST" else None
                )
                assert reply.status_code == 401, (name, path, reply.text)
                assert reply.json()["error"]["code"] == "unauthenticated"
                assert reply.headers["www-authenticate"].startswith("Bearer")
    with stack.client() as http:
        assert http.get("/api/tenants").status_code == 401
        assert http.get("/api/tenants", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_a_token_for_the_client_id_audience_is_accepted(stack: Stack) -> None:
    token = stack.cloud.issue_user_token("operator", audience=API_CLIENT_ID)
    with stack.client(token=token) as http:
        assert http.get("/api/tenants").status_code == 200


def _principal(
    oid: str,
    scp: str | None = "access_as_user",
    roles: tuple[str, ...] = (),
    tenant: str | None = CONTOSO_TENANT_ID,
) -> str:
    claims = [
        {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid},
        {"typ": "name", "val": "Via Easy Auth"},
    ]
    if tenant:
        tid_type = "http://schemas.microsoft.com/identity/claims/tenantid"
        claims.append({"typ": tid_type, "val": tenant})
    if scp:
        claims.append({"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": scp})
    claims += [{"typ": "roles", "val": r} for r in roles]
    raw = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(raw).encode()).decode()


def test_the_principal_header_is_ignored_unless_trusted(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = {"X-MS-CLIENT-PRINCIPAL": _principal(OPERATOR_OID)}
    with stack.client() as http:
        assert http.get("/api/tenants", headers=header).status_code == 401
        with stack.client("viewer") as viewer:
            # With a bearer token, the header changes nothing: the viewer stays a viewer.
            reply = viewer.post(
                f"/api/tenants/{CONTOSO_TENANT_ID}/operations", json={"type": NOOP}, headers=header
            )
            assert reply.status_code == 403
    _trust_principal(monkeypatch, setting="true", platform="True")
    try:
        with stack.client() as http:
            mine = http.get("/api/tenants", headers=header)
            assert mine.status_code == 200
            assert {i["tenant_id"] for i in mine.json()["items"]} >= set(TENANTS)
            # No access-token header: a user, but nothing to exchange on-behalf-of.
            assert all(not i["group_search_enabled"] for i in mine.json()["items"])
            groups = http.get(
                f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups",
                params={"search": "a"},
                headers=header,
            )
            assert groups.status_code == 403
            # The token store's copy is never used (per instance on Flex Consumption):
            # a cookie session stays undelegated even when App Service injects one.
            token = stack.token("operator")
            with_token = http.get(
                f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups",
                params={"search": "a"},
                headers={**header, "X-MS-TOKEN-AAD-ACCESS-TOKEN": token},
            )
            assert with_token.status_code == 403, with_token.text
            assert with_token.json()["error"]["code"] == "delegated_token_required"
            # A bearer token wins over the principal App Service adds beside it: only the
            # token can be exchanged on-behalf-of.
            with_bearer = http.get(
                f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups",
                params={"search": "a"},
                headers={**header, "Authorization": f"Bearer {token}"},
            )
            assert with_bearer.status_code == 200, with_bearer.text
            app_header = {"X-MS-CLIENT-PRINCIPAL": _principal(OIDS["app"], None, ("Operations",))}
            assert http.get("/api/tenants", headers=app_header).status_code == 200
            broken = http.get("/api/tenants", headers={"X-MS-CLIENT-PRINCIPAL": "%%%"})
            assert broken.status_code == 401
    finally:
        _trust_principal(monkeypatch, setting=None, platform=None)


def _trust_principal(
    monkeypatch: pytest.MonkeyPatch, *, setting: str | None, platform: str | None
) -> None:
    for name, value in (
        ("AUTH_TRUST_APP_SERVICE_PRINCIPAL", setting),
        ("WEBSITE_AUTH_ENABLED", platform),
    ):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    root.reset()


@pytest.mark.parametrize(
    ("setting", "platform"),
    [("true", None), ("true", ""), ("true", "False"), ("false", "True"), (None, "True")],
)
def test_the_principal_header_fails_closed_unless_app_service_authentication_is_on(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, setting: str | None, platform: str | None
) -> None:
    # The setting alone (App Service Authentication switched off) trusts nothing, and
    # neither does the platform flag alone.
    _trust_principal(monkeypatch, setting=setting, platform=platform)
    try:
        with stack.client() as http:
            reply = http.get(
                "/api/tenants", headers={"X-MS-CLIENT-PRINCIPAL": _principal(OPERATOR_OID)}
            )
        assert reply.status_code == 401, reply.text
    finally:
        _trust_principal(monkeypatch, setting=None, platform=None)


def test_a_trusted_principal_of_an_untrusted_tenant_is_refused(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_principal(monkeypatch, setting="true", platform="True")
    try:
        with stack.client() as http:
            for tenant in ("9c9c9c9c-9c9c-4c9c-8c9c-9c9c9c9c9c9c", None):
                header = {"X-MS-CLIENT-PRINCIPAL": _principal(OPERATOR_OID, tenant=tenant)}
                reply = http.get("/api/tenants", headers=header)
                assert reply.status_code == 401, (tenant, reply.text)
            trusted = {"X-MS-CLIENT-PRINCIPAL": _principal(OPERATOR_OID)}
            assert http.get("/api/tenants", headers=trusted).status_code == 200
    finally:
        _trust_principal(monkeypatch, setting=None, platform=None)
