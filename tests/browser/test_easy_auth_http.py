"""The local App Service Authentication over HTTP, with the app trusting its principal
header (as `make dev` runs it): a session cookie signs the API in; client-sent principal
headers are stripped, so they sign nothing in."""

from __future__ import annotations

import base64
import json

import httpx

from devstack.stack import Stack
from localcloud.seed import CONTOSO_TENANT_ID, OPERATOR_OID, VIEWER_OID


def forged_principal(oid: str) -> str:
    claims = [
        {"typ": "oid", "val": oid},
        {"typ": "tid", "val": CONTOSO_TENANT_ID},
        {"typ": "scp", "val": "access_as_user"},
        {"typ": "name", "val": "Forged"},
    ]
    principal = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(principal).encode()).decode()


def test_a_session_signs_the_page_and_the_api_in(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        assert http.get("/.auth/me").status_code == 401
        assert http.get("/api/tenants").status_code == 401
        chooser = http.get("/.auth/login/aad", params={"post_login_redirect_uri": "/monitoring/"})
        assert chooser.status_code == 200 and "user=viewer" in chooser.text
        login = http.get(
            "/.auth/login/aad", params={"user": "viewer", "post_login_redirect_uri": "/monitoring/"}
        )
        assert login.status_code == 302 and login.headers["location"] == "/monitoring/"
        me = http.get("/.auth/me").json()[0]
        claims = {c["typ"]: c["val"] for c in me["user_claims"]}
        oid_type = "http://schemas.microsoft.com/identity/claims/objectidentifier"
        assert claims[oid_type] == VIEWER_OID and me["provider_name"] == "aad"
        assert "scp" not in claims and me["id_token"]  # the ID token's claims, as in Azure
        tenants = http.get("/api/tenants").json()["items"]
        assert [(t["tenant_id"], t["role"]) for t in tenants if t["name"] == "Contoso"] == [
            (CONTOSO_TENANT_ID, "readonly")
        ]
        # The signed-in viewer cannot pass for the operator with a header of their own.
        forged = http.post(
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            json={"type": "diagnostics.noop", "inputs": {}},
            headers={"X-MS-CLIENT-PRINCIPAL": forged_principal(OPERATOR_OID)},
        )
        assert forged.status_code == 403
        logout = http.get("/.auth/logout", params={"post_logout_redirect_uri": "/monitoring/"})
        assert logout.status_code == 302
        assert http.get("/api/tenants").status_code == 401


def test_client_sent_principal_headers_are_stripped(stack: Stack) -> None:
    headers = {
        "X-MS-CLIENT-PRINCIPAL": forged_principal(OPERATOR_OID),
        "X-MS-CLIENT-PRINCIPAL-ID": OPERATOR_OID,
        "X-MS-TOKEN-AAD-ACCESS-TOKEN": stack.token("operator"),
    }
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        reply = http.get("/api/tenants", headers=headers)
    assert reply.status_code == 401


def test_bearer_tokens_still_work_beside_the_session(stack: Stack) -> None:
    with stack.client("operator") as http:
        reply = http.get("/api/tenants")
    assert reply.status_code == 200
    assert {t["tenant_id"] for t in reply.json()["items"]} >= {CONTOSO_TENANT_ID}
