"""The deployed configuration, locally: a start runs through the worker and notifies its
initiator, the page signs in with a cookie session and shows the run, the restore mapping
answers, the timers run, and nothing reads a storage connection string."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.data.tables import TableServiceClient
from azure.functions.timer import TimerRequest
from playwright.sync_api import Browser, expect

from devhost.as_deployed import bicep_app_settings
from devhost.loader import _get_functions
from devstack.stack import Stack
from localcloud.seed import CONTOSO_TENANT_ID
from shared.composition.reads import api_services
from shared.composition.services import services
from shared.config import Settings, StorageSettingsConflict

OPS = f"/api/tenants/{CONTOSO_TENANT_ID}/operations"


def run_to_completion(stack: Stack, run_type: str, inputs: dict[str, Any]) -> dict[str, Any]:
    with stack.client("operator") as http:
        reply = http.post(OPS, json={"type": run_type, "inputs": inputs})
        assert reply.status_code in (200, 202), reply.text
        url = reply.json()["run"]["links"]["self"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run: dict[str, Any] = http.get(url).json()
            if run["status"] == "completed":
                return run
            time.sleep(0.2)
    raise AssertionError(f"{run_type} did not complete")


@contextmanager
def cookie_session(stack: Stack, user: str = "operator") -> Iterator[httpx.Client]:
    """A browser-like client signed in through App Service Authentication (a cookie)."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        reply = http.get("/.auth/login/aad", params={"user": user, "post_login_redirect_uri": "/"})
        assert reply.status_code == 302 and "AppServiceAuthSession" in http.cookies
        yield http


def test_the_environment_is_what_infra_deploys(deployed: Stack) -> None:
    assert "AzureWebJobsStorage" not in os.environ
    assert {s.name for s in bicep_app_settings()} <= set(os.environ)
    assert os.environ["AUTH_TRUST_APP_SERVICE_PRINCIPAL"] == "true"
    assert os.environ["ENABLE_DIAGNOSTIC_RUN_TYPES"] == "false"
    with pytest.raises(StorageSettingsConflict):
        _ = Settings().storage_connection_string
    with deployed.client("operator") as http:
        assert http.get("/api/tenants").status_code == 200
    # One composition root: the read side and the full side share one storage, by identity.
    assert api_services().storage is services().storage
    assert services().storage.uses_identity
    assert deployed.cloud.managed_identity().issued >= 1


def test_a_start_completes_through_the_worker_and_notifies_the_initiator(
    deployed: Stack,
) -> None:
    run = run_to_completion(deployed, "directory_groups.sync", {})
    assert run["outcome"] == "succeeded", run
    deadline = time.monotonic() + 30
    with deployed.client("operator") as http:
        while time.monotonic() < deadline:
            notices = http.get("/api/me/notifications").json()["items"]
            if any(n["run_id"] == run["id"] and n["event"] == "completed" for n in notices):
                return
            time.sleep(0.2)
    raise AssertionError(f"no completed notice for {run['id']}: {notices}")


def test_the_restore_group_mapping_answers(deployed: Stack) -> None:
    run_to_completion(deployed, "directory_groups.sync", {})
    backup = run_to_completion(deployed, "backup.capture", {"label": "as-deployed"})
    assert backup["outcome"] in ("succeeded", "partially_succeeded"), backup
    set_id = backup["result"]["backup_set_id"]
    with deployed.client("viewer") as http:
        reply = http.get(
            f"/api/tenants/{CONTOSO_TENANT_ID}/restore/group-mapping",
            params={"backup_set_id": set_id},
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["helper_text"]


def test_a_cookie_session_is_a_user_without_delegated_graph(deployed: Stack) -> None:
    """The principal comes from the ID token (no scp); the token store's access token is
    injected but never used, so group search is off and refused, not a 500."""
    with cookie_session(deployed) as http:
        tenants = http.get("/api/tenants")
        assert tenants.status_code == 200, tenants.text
        items = tenants.json()["items"]
        assert CONTOSO_TENANT_ID in {i["tenant_id"] for i in items}
        assert not any(i["group_search_enabled"] for i in items)
        search = http.get(
            f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups", params={"search": "a"}
        )
        assert search.status_code == 403, search.text
        assert search.json()["error"]["code"] == "delegated_token_required"
    with deployed.client("operator") as bearer:  # a bearer caller keeps delegated search
        mine = bearer.get("/api/tenants").json()["items"]
        assert all(i["group_search_enabled"] for i in mine)


def test_the_page_signs_in_and_shows_the_run(deployed: Stack, browser: Browser) -> None:
    run = run_to_completion(deployed, "directory_groups.sync", {})
    context = browser.new_context(base_url=deployed.base_url)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        query = httpx.QueryParams({"user": "operator", "post_login_redirect_uri": "/monitoring/"})
        page.goto(f"/.auth/login/aad?{query}")
        expect(page.locator("#who")).to_contain_text("Signed in as")
        page.goto(f"/monitoring/#/tenants/{CONTOSO_TENANT_ID}/runs/{run['id']}")
        expect(page.locator("body")).to_contain_text(run["id"], timeout=15_000)
        assert errors == []
    finally:
        context.close()


TIMER_LOG_PREFIX = {
    "run_reaper": "reaper:",
    "run_retention": "retention:",
    "overview_sweep": "overview sweep:",
}


@pytest.mark.parametrize("name", list(TIMER_LOG_PREFIX))
def test_the_timers_run_once_without_error(
    deployed: Stack, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    import function_app

    functions = {f.get_function_name(): f for f in _get_functions(function_app.app)}
    timer = TimerRequest(past_due=False)
    with caplog.at_level(logging.INFO):
        functions[name].get_user_function()(timer)
    said = [r.getMessage() for r in caplog.records]
    lines = [m for m in said if m.startswith(TIMER_LOG_PREFIX[name])]
    assert lines, said
    if name == "overview_sweep":
        # Summaries exist (written by the run events or by this sweep, depending on what
        # ran before and how recently) and none failed: all through the managed identity.
        found = re.search(r"(\d+) rows, (\d+) recomputed \((\d+) failed\)", lines[-1])
        assert found is not None, lines
        rows, recomputed, failed = (int(n) for n in found.groups())
        assert failed == 0 and rows + recomputed > 0, lines


class FixedToken:
    """A TokenCredential that presents one given token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def test_storage_accepts_only_what_a_managed_identity_presents(deployed: Stack) -> None:
    """The Azurite behind the stack checks bearer tokens as storage does (issuer, audience,
    lifetime): a token from the identity endpoint works, others are refused."""
    endpoints = services().storage.endpoints
    assert endpoints is not None
    signer, tenant = deployed.cloud.signer, CONTOSO_TENANT_ID
    storage = "https://storage.azure.com"
    v1 = {"iss": f"https://sts.windows.net/{tenant}/"}
    identity = deployed.cloud.managed_identity()
    issued = httpx.get(
        identity.url,
        params={"api-version": "2019-08-01", "resource": storage},
        headers={"X-IDENTITY-HEADER": identity.header},
        timeout=10,
    ).json()["access_token"]
    tokens = {
        "identity endpoint": (issued, True),
        "v2 issuer": (signer.issue(tenant, storage, {}), False),
        "wrong audience": (signer.issue(tenant, "https://vault.azure.net", v1), False),
        "expired": (signer.issue(tenant, storage, v1, lifetime=60, now=time.time() - 7200), False),
    }
    for name, (token, accepted) in tokens.items():
        client = TableServiceClient(endpoints.table, credential=FixedToken(token))
        try:
            with client:
                list(client.list_tables())
            assert accepted, f"{name}: accepted"
        except ClientAuthenticationError:
            assert not accepted, f"{name}: refused"
