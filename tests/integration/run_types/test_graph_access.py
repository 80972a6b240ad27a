"""Per-tenant Graph access for workers: credentials from the Tenants row and app
settings, tokens cached across runs, and secrets kept out of rows and logs."""

from __future__ import annotations

import json
import logging

import pytest

from localcloud.seed import (
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
    FABRIKAM_TENANT_ID,
)
from shared.run_types.graph_access import GraphNotConfigured
from shared.runs.model import RunOutcome
from shared.tenants import GraphAppReference, ManagedTenant
from tests.integration.conftest import Harness

from .conftest import SECRET_SETTING, Env


def test_the_tenants_row_names_the_app_and_setting_never_the_secret(env: Env) -> None:
    tenants = env.tenants
    [row] = list(env.tables["tenants"].list_entities())
    assert row["GraphClientId"] == CONTOSO_GRAPH_CLIENT_ID
    assert row["GraphCredentialSetting"] == SECRET_SETTING
    assert CONTOSO_GRAPH_CLIENT_SECRET not in json.dumps(row, default=str)
    # Saving the name only (the existing API) keeps the Graph app.
    tenants.upsert(ManagedTenant(CONTOSO_TENANT_ID, "Contoso Ltd"))
    again = tenants.get(CONTOSO_TENANT_ID)
    assert again is not None and again.name == "Contoso Ltd"
    assert again.graph_app == GraphAppReference(CONTOSO_GRAPH_CLIENT_ID, SECRET_SETTING)
    with pytest.raises(ValueError):
        GraphAppReference(CONTOSO_GRAPH_CLIENT_ID, credential_setting="not a setting name!")


def test_tokens_are_cached_across_runs(harness: Harness, env: Env) -> None:
    harness.start("directory_groups.sync")
    assert harness.deliver_next() is not None
    harness.start("policy.sync")
    assert harness.deliver_next() is not None
    # Two runs, several Graph requests, one client-credentials token from Entra.
    assert env.cloud.graph_requests(CONTOSO_TENANT_ID) >= 5
    assert env.cloud.token_requests(CONTOSO_TENANT_ID, "client_credentials") == 1


@pytest.mark.parametrize(
    ("setting_value", "message"),
    [
        (None, "holds no Graph credential"),
        ("@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)", "Key Vault"),
    ],
)
def test_a_missing_credential_fails_the_run_clearly_and_at_once(
    harness: Harness,
    env: Env,
    monkeypatch: pytest.MonkeyPatch,
    setting_value: str | None,
    message: str,
) -> None:
    if setting_value is None:
        monkeypatch.delenv(SECRET_SETTING)
    else:
        monkeypatch.setenv(SECRET_SETTING, setting_value)
    harness.start("directory_groups.sync")
    failed = harness.deliver_next()  # the first delivery: not retried, not transient
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    [failure] = failed.failures
    assert failure.code == "graph_not_configured" and message in failure.message
    assert SECRET_SETTING in failure.message
    assert env.cloud.token_requests() == 0


def test_a_tenant_without_a_graph_app_is_not_configured(env: Env) -> None:
    env.tenants.upsert(ManagedTenant(FABRIKAM_TENANT_ID, "Fabrikam"))
    with pytest.raises(GraphNotConfigured, match="no Graph app"):
        env.deps.graph.credentials(FABRIKAM_TENANT_ID)
    with pytest.raises(GraphNotConfigured):
        env.deps.graph.credentials("00000000-0000-4000-8000-000000000000")


def test_no_secret_or_token_in_run_rows_or_logs(
    harness: Harness, env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env.cloud.faults.throttle(route="/v1.0/groups*", count=None)  # a failure message too
    harness.start("directory_groups.sync")
    body = harness.receive().body
    failed = harness.worker.process(body, 5)  # the last delivery: the run fails
    assert failed is not None and failed.outcome is RunOutcome.FAILED
    env.cloud.faults.clear()
    harness.start("policy.sync", {"policy_types": ["compliance_policies"]})
    assert harness.deliver_next() is not None

    assert env.cloud.token_requests(CONTOSO_TENANT_ID) == 1  # a token really was issued
    stored = json.dumps(harness.run_rows(), default=str)
    for text in (stored, caplog.text):
        assert CONTOSO_GRAPH_CLIENT_SECRET not in text
        assert "eyJ" not in text  # no JWT (access token) of any kind
    assert "graph_throttled" in stored or "429" in stored
