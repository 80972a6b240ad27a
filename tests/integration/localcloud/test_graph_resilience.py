"""Throttling, server errors, hang-ups, slowness and malformed payloads, end to end."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID
from shared.errors import TransientError
from shared.graph import (
    GraphClient,
    GraphCredentials,
    GraphMalformedResponse,
    GraphServerError,
    GraphThrottled,
    GraphTransientError,
    MsalApps,
    RetryPolicy,
)

from .conftest import Sleeps

GROUPS = "/v1.0/groups*"


def test_throttling_storm_honours_retry_after_then_succeeds(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    cloud.faults.throttle(tenant=CONTOSO_TENANT_ID, route=GROUPS, count=3, retry_after=2)
    page = graph.get("/groups", {"$top": 5})
    assert len(page["value"]) == 5
    assert len(sleeps) == 3 and all(2 <= s <= 3 for s in sleeps)
    assert cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/groups") == 4


def test_throttling_outlasting_retries_raises_graph_throttled(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    cloud.faults.throttle(route=GROUPS, count=None, retry_after=1)
    with pytest.raises(GraphThrottled) as caught:
        graph.get("/groups")
    error = caught.value
    assert isinstance(error, TransientError) and error.retry_after == 1
    assert error.status == 429 and error.graph_code == "TooManyRequests"
    assert cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/groups") == graph.retry.max_attempts
    assert len(sleeps) == graph.retry.max_attempts - 1


def test_retry_after_beyond_the_cap_is_not_slept(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    cloud.faults.throttle(route=GROUPS, count=1, retry_after=3600)
    with pytest.raises(GraphThrottled) as caught:
        graph.get("/groups")
    assert caught.value.retry_after == 3600 and sleeps == []


def test_faults_are_per_tenant(cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps) -> None:
    cloud.faults.throttle(tenant=FABRIKAM_TENANT_ID, route=GROUPS, count=None)
    graph.get("/groups", {"$top": 1})
    assert sleeps == []


def test_503_then_success_and_500_is_not_retried(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    cloud.faults.server_error(route=GROUPS, status=503, count=2)
    assert graph.get("/groups", {"$top": 1})["value"]
    assert len(sleeps) == 2
    cloud.faults.server_error(route=GROUPS, status=500, count=1)
    with pytest.raises(GraphServerError) as caught:
        graph.get("/groups", {"$top": 1})
    assert caught.value.status == 500 and isinstance(caught.value, TransientError)
    assert len(sleeps) == 2


def test_hang_up_is_retried_for_get_but_not_for_post(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    cloud.faults.unreachable(route=GROUPS, count=1)
    assert graph.get("/groups", {"$top": 1})["value"]
    assert len(sleeps) == 1
    cloud.faults.unreachable(route="/v1.0/users/*", count=1)
    with pytest.raises(GraphTransientError, match="RemoteProtocolError"):
        graph.post(
            "/users/intune-runs@contoso.onmicrosoft.com/sendMail",
            {"message": {"subject": "x", "toRecipients": []}},
        )
    assert cloud.sent_mail() == []


def test_slow_graph_hits_the_client_timeout(
    cloud: LocalCloud, credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    cloud.faults.slow(route=GROUPS, delay=0.6, count=1)
    policy = RetryPolicy(max_attempts=1)
    with GraphClient(credentials(), apps=apps, retry=policy, timeout=httpx.Timeout(0.2)) as client:
        with pytest.raises(GraphTransientError, match="ReadTimeout"):
            client.get("/groups", {"$top": 1})


def test_unreachable_graph_is_transient(
    credentials: Callable[..., GraphCredentials], sleeps: Sleeps
) -> None:
    creds = credentials()
    dead = GraphCredentials(
        tenant_id=creds.tenant_id,
        client_id=creds.client_id,
        client_secret="unused",
        graph_base_url="https://127.0.0.1:9",
        ca_bundle=creds.ca_bundle,
    )
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, rng=random.Random(1))
    with GraphClient.delegated(dead, "token", retry=policy, sleep=sleeps) as client:
        with pytest.raises(GraphTransientError, match="ConnectError"):
            client.get("/groups")
    assert len(sleeps) == 2


def test_malformed_payloads(cloud: LocalCloud, graph: GraphClient) -> None:
    cloud.faults.malformed(route=GROUPS, mode="invalid_json", count=1)
    with pytest.raises(GraphMalformedResponse):
        graph.get("/groups", {"$top": 3})
    cloud.faults.malformed(route=GROUPS, mode="missing_fields", count=1)
    items = graph.get("/groups", {"$top": 3})["value"]
    assert "id" not in items[0] and "displayName" not in items[0]
    assert all("id" in item for item in items[1:])
