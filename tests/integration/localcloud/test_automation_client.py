"""The automation client: client credentials for our API give an app-only token with roles."""

from __future__ import annotations

import ssl

import httpx
import jwt

from localcloud import LocalCloud
from localcloud.directory import Directory
from localcloud.seed import (
    API_APP_ROLES,
    API_AUDIENCE,
    AUTOMATION_CLIENT_ID,
    AUTOMATION_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)


def test_client_credentials_for_the_api_carry_its_app_roles(cloud: LocalCloud) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(cloud.ca_path))) as http:
        reply = http.post(
            cloud.token_endpoint(CONTOSO_TENANT_ID),
            data={
                "grant_type": "client_credentials",
                "client_id": AUTOMATION_CLIENT_ID,
                "client_secret": AUTOMATION_CLIENT_SECRET,
                "scope": f"{API_AUDIENCE}/.default",
            },
        )
    assert reply.status_code == 200, reply.text
    claims = cloud.signer.verify(reply.json()["access_token"], audiences=[API_AUDIENCE])
    assert claims["roles"] == list(API_APP_ROLES) and "scp" not in claims
    assert claims["oid"] == Directory.service_principal_oid(CONTOSO_TENANT_ID, AUTOMATION_CLIENT_ID)
    admin = cloud.issue_app_token(
        CONTOSO_TENANT_ID, audience=API_AUDIENCE, roles=["x"], client_id=AUTOMATION_CLIENT_ID
    )
    assert jwt.decode(admin, options={"verify_signature": False})["oid"] == claims["oid"]
