"""LocalCloud's App Service managed-identity endpoint, as azure-identity and msal call it
(api-version 2019-08-01, X-IDENTITY-HEADER, resource) and as it answers (expires_on as
epoch seconds in a string, resource, token_type, client_id; a v1 token from
sts.windows.net), and what it refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from azure.identity import ManagedIdentityCredential

from localcloud import LocalCloud
from localcloud.managed_identity import ManagedIdentityEndpoint
from localcloud.seed import CONTOSO_TENANT_ID

STORAGE = "https://storage.azure.com"


@pytest.fixture
def identity(cloud: LocalCloud) -> ManagedIdentityEndpoint:
    return cloud.managed_identity(CONTOSO_TENANT_ID)


@pytest.fixture
def app_service_env(
    identity: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for name, value in identity.environment.items():
        monkeypatch.setenv(name, value)
    yield


def ask(
    identity: ManagedIdentityEndpoint,
    header: str | None = "",
    **params: str | None,
) -> httpx.Response:
    """A token request as msal sends it; `header=None` leaves X-IDENTITY-HEADER out, a
    param set to None leaves that parameter out."""
    query = {"api-version": "2019-08-01", "resource": STORAGE}
    query.update({k.replace("api_version", "api-version"): v for k, v in params.items() if v})
    for name in [k for k, v in params.items() if v is None]:
        query.pop(name.replace("api_version", "api-version"), None)
    headers = {} if header is None else {"X-IDENTITY-HEADER": header or identity.header}
    return httpx.get(identity.url, params=query, headers=headers, timeout=10)


def test_a_storage_token_in_the_documented_shape(identity: ManagedIdentityEndpoint) -> None:
    reply = ask(identity)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert isinstance(body["expires_on"], str) and int(body["expires_on"]) > time.time()
    assert body["token_type"] == "Bearer"  # noqa: S105 - a token type, not a secret
    assert body["resource"] == STORAGE
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"https://sts.windows.net/{CONTOSO_TENANT_ID}/"
    assert claims["aud"] == STORAGE and claims["idtyp"] == "app" and claims["ver"] == "1.0"
    assert claims["oid"] == identity.principal_id and claims["appid"] == identity.client_id
    assert claims["nbf"] <= time.time() < claims["exp"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"header": None}, 401),
        ({"header": "guessed"}, 401),
        ({"api_version": "2017-09-01"}, 400),
        ({"resource": None}, 400),
        ({"resource": "https://vault.azure.net"}, 400),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400),
    ],
)
def test_what_it_refuses(
    identity: ManagedIdentityEndpoint, change: dict[str, str | None], status: int
) -> None:
    reply = ask(identity, **change)
    assert reply.status_code == status, reply.text
    assert "access_token" not in reply.json()


def test_the_own_client_id_is_accepted(identity: ManagedIdentityEndpoint) -> None:
    assert ask(identity, client_id=identity.client_id).status_code == 200


def test_azure_identity_gets_its_token_from_it(
    identity: ManagedIdentityEndpoint, app_service_env: None
) -> None:
    before = identity.issued
    with ManagedIdentityCredential() as credential:
        token = credential.get_token(f"{STORAGE}/.default")
    assert token.expires_on > time.time() + 3600
    assert jwt.decode(token.token, options={"verify_signature": False})["aud"] == STORAGE
    assert identity.issued == before + 1
