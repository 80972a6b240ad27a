"""Token errors are typed and carry Entra's code, not its description; OBO is cached."""

from __future__ import annotations

from typing import Any

import pytest

from shared.graph import (
    DelegatedTokenUnavailable,
    GraphAuthError,
    GraphCredentials,
    GraphTransientError,
    MsalApps,
    TokenProvider,
)
from shared.graph.obo_cache import OboCache

CREDS = GraphCredentials("t1", "c1", client_secret="the-secret")


class FakeApp:
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.calls = 0

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.calls += 1
        return self.result

    def acquire_token_on_behalf_of(self, assertion: str, scopes: list[str]) -> dict[str, Any]:
        self.calls += 1
        return self.result


@pytest.fixture
def apps() -> MsalApps:
    return MsalApps()


def provider(
    apps: MsalApps, monkeypatch: pytest.MonkeyPatch, result: dict[str, Any]
) -> tuple[TokenProvider, FakeApp]:
    fake = FakeApp(result)
    monkeypatch.setattr(apps, "app", lambda credentials: fake)
    return TokenProvider(CREDS, apps), fake


def test_invalid_client_is_an_auth_error_with_code_only(
    apps: MsalApps, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. the-secret",
        "error_codes": [7000215],
    }
    tokens, _ = provider(apps, monkeypatch, result)
    with pytest.raises(GraphAuthError) as caught:
        tokens.app_token()
    assert "AADSTS7000215" in str(caught.value) and "the-secret" not in str(caught.value)


def test_temporarily_unavailable_is_transient(
    apps: MsalApps, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens, _ = provider(apps, monkeypatch, {"error": "temporarily_unavailable"})
    with pytest.raises(GraphTransientError):
        tokens.app_token()


def test_obo_failure_reason_and_cache(apps: MsalApps, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens, _ = provider(
        apps, monkeypatch, {"error": "invalid_grant", "suberror": "consent_required"}
    )
    with pytest.raises(DelegatedTokenUnavailable) as caught:
        tokens.on_behalf_of("user-jwt", ["https://graph.microsoft.com/User.Read"])
    assert caught.value.reason == "consent_required"
    tokens, fake = provider(apps, monkeypatch, {"access_token": "delegated", "expires_in": 3599})
    for _ in range(3):
        assert tokens.on_behalf_of("user-jwt", ["s"]) == "delegated"
    assert fake.calls == 1
    assert tokens.on_behalf_of("other-user-jwt", ["s"]) == "delegated" and fake.calls == 2


def test_obo_cache_expiry_and_capacity() -> None:
    now = [0.0]
    cache = OboCache(capacity=2, clock=lambda: now[0])
    cache.put("a", "A", 600)
    cache.put("short", "S", 200)  # shorter than the renewal margin: not cached
    assert cache.get("a") == "A" and cache.get("short") is None
    now[0] = 301
    assert cache.get("a") is None
    cache.put("b", "B", 3600)
    cache.put("c", "C", 3600)
    cache.put("d", "D", 3600)
    assert cache.get("b") is None and cache.get("d") == "D"
    assert "user-jwt" not in OboCache.key(("k",), "user-jwt", ["s"])
