"""Validated API tokens are remembered until they expire, and only those."""

from __future__ import annotations

import time

import pytest

from localcloud import LocalCloud
from localcloud.seed import API_AUDIENCE, CONTOSO_TENANT_ID
from shared.auth.errors import Unauthenticated
from shared.auth.tokens import LEEWAY_SECONDS, TokenValidator


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_validated_token_is_not_checked_again_until_it_expires(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    validator = TokenValidator(
        authority_base_url=cloud.base_url,
        audiences=[API_AUDIENCE],
        trusted_tenants=[CONTOSO_TENANT_ID],
        ca_bundle=str(cloud.ca_path),
        clock=clock,
    )
    checks: list[str] = []
    full_check = validator._validate
    monkeypatch.setattr(validator, "_validate", lambda t: checks.append(t) or full_check(t))
    token = cloud.issue_user_token("operator", lifetime=600)
    first = validator.validate(token)
    assert validator.validate(token) == first and len(checks) == 1
    clock.now += 600 + LEEWAY_SECONDS + 1  # past its expiry: checked in full again
    validator.validate(token)
    assert len(checks) == 2


def test_a_rejected_token_is_never_remembered(cloud: LocalCloud) -> None:
    validator = TokenValidator(
        authority_base_url=cloud.base_url,
        audiences=[API_AUDIENCE],
        trusted_tenants=[CONTOSO_TENANT_ID],
        ca_bundle=str(cloud.ca_path),
    )
    wrong_audience = cloud.issue_user_token("operator", audience="api://someone-else")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            validator.validate(wrong_audience)
    with pytest.raises(Unauthenticated):
        validator.validate("x" * 20_000)
