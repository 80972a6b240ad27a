"""The local Entra through real msal: metadata, client credentials, certificates, OBO."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx
import jwt
import pytest

from localcloud import LocalCloud
from localcloud.seed import (
    API_AUDIENCE,
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
    FABRIKAM_TENANT_ID,
    GRAPH_RESOURCE,
    OPERATOR_OID,
)
from shared.errors import TransientError
from shared.graph import (
    CertificateCredential,
    DelegatedTokenUnavailable,
    GraphAuthError,
    GraphClient,
    GraphCredentials,
    GraphTransientError,
    MsalApps,
    TokenProvider,
    acquire_on_behalf_of,
)

GROUP_SCOPE = ["https://graph.microsoft.com/GroupMember.Read.All"]
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def http(cloud: LocalCloud) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(cloud.ca_path))
    return httpx.Client(verify=context)


def test_metadata_and_keys_verify_an_issued_token(cloud: LocalCloud, http: httpx.Client) -> None:
    with http:
        meta = http.get(
            f"{cloud.authority(CONTOSO_TENANT_ID)}/v2.0/.well-known/openid-configuration"
        )
        assert meta.status_code == 200
        config = meta.json()
        assert config["issuer"] == f"{cloud.base_url}/{CONTOSO_TENANT_ID}/v2.0"
        assert config["token_endpoint"] == cloud.token_endpoint(CONTOSO_TENANT_ID)
        keys = jwt.PyJWKSet.from_dict(http.get(config["jwks_uri"]).json())
    token = cloud.issue_user_token("operator")
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    decoded = jwt.decode(
        token, key.key, algorithms=["RS256"], audience=API_AUDIENCE, issuer=config["issuer"]
    )
    assert decoded["oid"] == OPERATOR_OID and decoded["tid"] == CONTOSO_TENANT_ID


def test_unknown_tenant_and_wrong_secret_answer_like_entra(
    cloud: LocalCloud, http: httpx.Client
) -> None:
    with http:
        unknown = http.get(f"{cloud.base_url}/nope.example/v2.0/.well-known/openid-configuration")
        wrong = http.post(
            cloud.token_endpoint(CONTOSO_TENANT_ID),
            data={
                "grant_type": "client_credentials",
                "client_id": CONTOSO_GRAPH_CLIENT_ID,
                "client_secret": "not-it",
                "scope": f"{GRAPH_RESOURCE}/.default",
            },
        )
        no_default = http.post(
            cloud.token_endpoint(CONTOSO_TENANT_ID),
            data={
                "grant_type": "client_credentials",
                "client_id": CONTOSO_GRAPH_CLIENT_ID,
                "client_secret": CONTOSO_GRAPH_CLIENT_SECRET,
                "scope": f"{GRAPH_RESOURCE}/Group.Read.All",
            },
        )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_tenant"
    assert wrong.status_code == 401
    body = wrong.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215:")
    assert no_default.status_code == 400 and no_default.json()["error"] == "invalid_scope"


def test_app_token_has_roles_and_no_scp(
    credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    token = TokenProvider(credentials(), apps).app_token()
    body = claims(token)
    assert body["aud"] == GRAPH_RESOURCE and body["tid"] == CONTOSO_TENANT_ID
    assert "scp" not in body and "Group.Read.All" in body["roles"]  # type: ignore[operator]
    assert body["appid"] == body["azp"] == CONTOSO_GRAPH_CLIENT_ID


def test_msal_caches_the_app_token_across_many_requests(
    cloud: LocalCloud, graph: GraphClient
) -> None:
    for _ in range(12):
        graph.get("/groups", {"$top": 1})
    assert cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/groups") == 12
    assert cloud.token_requests(CONTOSO_TENANT_ID, "client_credentials") == 1


def test_wrong_secret_is_an_auth_error_without_the_secret(
    credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    secret = "s3cr3t-value-that-must-not-leak"  # noqa: S105 - fake
    with GraphClient(credentials(client_secret=secret), apps=apps) as client:
        with pytest.raises(GraphAuthError) as caught:
            client.get("/groups")
    assert "AADSTS7000215" in str(caught.value)
    assert secret not in str(caught.value) and secret not in repr(caught.value.__dict__)
    assert not isinstance(caught.value, TransientError)


def test_app_of_another_tenant_and_unknown_tenant_are_auth_errors(
    credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    with pytest.raises(GraphAuthError, match="AADSTS700016"):
        TokenProvider(credentials(tenant_id=FABRIKAM_TENANT_ID), apps).app_token()
    with pytest.raises(GraphAuthError, match="rejected or unknown"):
        TokenProvider(
            credentials(tenant_id="00000000-0000-0000-0000-000000000000"), apps
        ).app_token()


def test_certificate_credential(
    cloud: LocalCloud, credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    pem, thumbprint = cloud.register_certificate(CONTOSO_GRAPH_CLIENT_ID)
    creds = credentials(client_secret=None, certificate=CertificateCredential(pem, thumbprint))
    assert claims(TokenProvider(creds, apps).app_token())["appidacr"] == "2"
    other_pem, _ = cloud.register_certificate("11111111-2222-3333-4444-555555555555")
    forged = credentials(
        client_secret=None, certificate=CertificateCredential(other_pem, thumbprint)
    )
    with pytest.raises(GraphAuthError, match="AADSTS700027"):
        TokenProvider(forged, apps).app_token()


def test_entra_throttling_is_transient(
    cloud: LocalCloud, credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    cloud.faults.throttle(route="*/oauth2/v2.0/token", count=1, retry_after=1)
    with pytest.raises(GraphTransientError):
        TokenProvider(credentials(), apps).app_token()
    # A fresh registry: msal remembers the 429 above for its Retry-After.
    cloud.faults.server_error(route="*/oauth2/v2.0/token", status=503, count=1)
    fresh = MsalApps()
    try:
        with pytest.raises(GraphTransientError):
            TokenProvider(credentials(), fresh).app_token()
        # msal itself replays that 5xx for 5 s (its http throttle cache): still transient.
        with pytest.raises(GraphTransientError):
            TokenProvider(credentials(), fresh).app_token()
        assert cloud.token_requests(CONTOSO_TENANT_ID) == 2
    finally:
        fresh.close()


def test_on_behalf_of_gives_a_delegated_graph_token_and_is_cached(
    cloud: LocalCloud, api_credentials: GraphCredentials, apps: MsalApps
) -> None:
    assertion = cloud.issue_user_token("operator")
    token = acquire_on_behalf_of(api_credentials, assertion, GROUP_SCOPE, apps=apps)
    body = claims(token)
    assert body["aud"] == GRAPH_RESOURCE and body["scp"] == "GroupMember.Read.All"
    assert body["oid"] == OPERATOR_OID
    assert str(body["preferred_username"]).endswith("@contoso.onmicrosoft.com")
    assert "roles" not in body
    assert acquire_on_behalf_of(api_credentials, assertion, GROUP_SCOPE, apps=apps) == token
    assert cloud.token_requests(CONTOSO_TENANT_ID, JWT_BEARER) == 1
    with GraphClient.delegated(api_credentials, token) as client:
        page = client.get(
            "/groups", {"$search": '"displayName:finance"'}, {"ConsistencyLevel": "eventual"}
        )
    assert page["value"] and all("finance" in g["displayName"].lower() for g in page["value"])


@pytest.mark.parametrize(
    ("make_assertion", "reason"),
    [
        (lambda c: c.issue_user_token("viewer", lifetime=-120), "invalid_grant"),
        (lambda c: c.issue_user_token("viewer", audience=GRAPH_RESOURCE), "invalid_grant"),
        (lambda c: c.issue_app_token(CONTOSO_TENANT_ID, audience=API_AUDIENCE), "invalid_grant"),
        (lambda c: c.issue_user_token("viewer")[:-6] + "AAAAAA", "invalid_grant"),
        (lambda c: "", "no_assertion"),
    ],
    ids=["expired", "wrong-audience", "app-token", "bad-signature", "empty"],
)
def test_on_behalf_of_failures_are_typed(
    cloud: LocalCloud,
    api_credentials: GraphCredentials,
    apps: MsalApps,
    make_assertion: Callable[[LocalCloud], str],
    reason: str,
) -> None:
    with pytest.raises(DelegatedTokenUnavailable) as caught:
        acquire_on_behalf_of(api_credentials, make_assertion(cloud), GROUP_SCOPE, apps=apps)
    assert caught.value.reason == reason
    assert caught.value.http_status == 403 and caught.value.code == "delegated_token_required"


def test_on_behalf_of_without_consent(
    cloud: LocalCloud, api_credentials: GraphCredentials, apps: MsalApps
) -> None:
    cloud.set_consent(CONTOSO_TENANT_ID, ["User.Read"])
    try:
        with pytest.raises(DelegatedTokenUnavailable) as caught:
            acquire_on_behalf_of(
                api_credentials, cloud.issue_user_token("operator"), GROUP_SCOPE, apps=apps
            )
    finally:
        cloud.set_consent(CONTOSO_TENANT_ID, ["User.Read", "GroupMember.Read.All"])
    assert caught.value.reason == "consent_required"
    assert "AADSTS65001" in str(caught.value)
