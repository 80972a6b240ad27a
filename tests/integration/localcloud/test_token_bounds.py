"""Forged tokens cost a bounded amount of work: key fetches and key sets do not grow with
the tenants tokens name, failed fetches are not retried at once, and ID tokens are refused.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud import LocalCloud
from localcloud.seed import API_AUDIENCE, API_CLIENT_ID, CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID
from shared.auth.errors import Unauthenticated
from shared.auth.tokens import FAILED_FETCH_BACKOFF, TokenValidator

FORGED_TOKENS = 1000
# The first fetch, plus at most one refresh for an unknown kid (then the cooldown holds).
MAX_KEY_FETCHES = 2


class Clock:
    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


def _validator(cloud: LocalCloud, tenants: list[str], **kwargs: Any) -> TokenValidator:
    return TokenValidator(
        authority_base_url=cloud.base_url,
        audiences=[API_AUDIENCE, API_CLIENT_ID],
        trusted_tenants=tenants,
        ca_bundle=str(cloud.ca_path),
        **kwargs,
    )


def _forged(cloud: LocalCloud, key: rsa.RSAPrivateKey, tenant_id: str, kid: str) -> str:
    now = int(time.time())
    claims = {
        "aud": API_AUDIENCE,
        "iss": cloud.signer.issuer(tenant_id),
        "tid": tenant_id,
        "oid": str(uuid.uuid4()),
        "azp": str(uuid.uuid4()),
        "scp": "access_as_user",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_forged_tokens_with_random_tenants_cost_a_constant_number_of_key_fetches(
    cloud: LocalCloud,
) -> None:
    validator = _validator(cloud, ["*"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    before = cloud.key_requests()
    for n in range(FORGED_TOKENS):
        # Half with the real kid (a bad signature), half with a kid nobody published.
        kid = cloud.signer.kid if n % 2 else uuid.uuid4().hex
        with pytest.raises(Unauthenticated):
            validator.validate(_forged(cloud, key, str(uuid.uuid4()), kid))
    fetches = cloud.key_requests() - before
    print(f"{FORGED_TOKENS} forged tokens with random tids: {fetches} key fetch(es)")
    assert 1 <= fetches <= MAX_KEY_FETCHES
    # Bounded memory: one key set for every tenant, and no failed token remembered.
    assert validator.key_sets == 1
    assert not validator._validated
    # The one multi-tenant set still validates real tokens of any tenant, issuer per tid.
    for tenant in (CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID):
        claims = validator.validate(cloud.issue_user_token("operator", tenant_id=tenant))
        assert claims["iss"] == cloud.signer.issuer(tenant)
    assert cloud.key_requests() - before == fetches


def test_with_any_tenant_the_issuer_stays_bound_to_the_tokens_tenant(cloud: LocalCloud) -> None:
    validator = _validator(cloud, ["*"])
    token = cloud.signer.issue(
        CONTOSO_TENANT_ID,
        API_AUDIENCE,
        {"oid": str(uuid.uuid4()), "azp": API_CLIENT_ID, "scp": "x"},
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    relabelled = cloud.signer.issue(
        FABRIKAM_TENANT_ID,
        API_AUDIENCE,
        {**claims, "tid": FABRIKAM_TENANT_ID, "iss": cloud.signer.issuer(CONTOSO_TENANT_ID)},
    )
    validator.validate(token)
    with pytest.raises(Unauthenticated, match="issuer"):
        validator.validate(relabelled)


def test_a_failed_key_fetch_is_remembered_briefly(cloud: LocalCloud) -> None:
    unknown = str(uuid.uuid4())  # trusted, but Entra does not know it: the fetch fails
    clock = Clock()
    validator = _validator(cloud, [unknown], monotonic=clock)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    before = cloud.key_requests(unknown)
    for _ in range(20):
        with pytest.raises(Unauthenticated, match="signing keys could not be fetched"):
            validator.validate(_forged(cloud, key, unknown, cloud.signer.kid))
    assert cloud.key_requests(unknown) - before == 1
    clock.now += FAILED_FETCH_BACKOFF + 1
    with pytest.raises(Unauthenticated):
        validator.validate(_forged(cloud, key, unknown, cloud.signer.kid))
    assert cloud.key_requests(unknown) - before == 2


def test_untrusted_tenants_fetch_no_keys(cloud: LocalCloud) -> None:
    validator = _validator(cloud, [CONTOSO_TENANT_ID])
    before = cloud.key_requests()
    for _ in range(50):
        with pytest.raises(Unauthenticated, match="tenant is not trusted"):
            validator.validate(cloud.issue_user_token("operator", tenant_id=FABRIKAM_TENANT_ID))
    assert cloud.key_requests() == before
    assert validator.key_sets == 0


def id_token(cloud: LocalCloud, **extra: Any) -> str:
    """What a sign-in to our own app registration returns as its ID token: audience our
    client id, signed by Entra, no `azp` and no `scp` (here with an app role assigned)."""
    user = cloud.directory.user("operator", cloud.directory.tenants[CONTOSO_TENANT_ID])
    assert user is not None
    return cloud.signer.issue(
        CONTOSO_TENANT_ID,
        API_CLIENT_ID,
        {
            "oid": user.oid,
            "sub": str(uuid.uuid4()),
            "name": user.display_name,
            "preferred_username": "operator@contoso.example",
            "nonce": uuid.uuid4().hex,
            "aio": "x",
            **extra,
        },
    )


@pytest.mark.parametrize("extra", [{"roles": ["Operations"]}, {"scp": "access_as_user"}])
def test_an_id_token_is_not_accepted_as_a_bearer_token(
    cloud: LocalCloud, extra: dict[str, Any]
) -> None:
    validator = _validator(cloud, [CONTOSO_TENANT_ID])
    with pytest.raises(Unauthenticated, match="not an access token"):
        validator.caller(id_token(cloud, **extra))
    # The access token of the same user and audience is fine.
    assert validator.caller(cloud.issue_user_token("operator", audience=API_CLIENT_ID)).oid
