"""One real LocalCloud (HTTPS on loopback) for this folder; fresh msal caches per test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from localcloud import LocalCloud
from localcloud.seed import (
    API_CLIENT_ID,
    API_CLIENT_SECRET,
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)
from shared.graph import GraphClient, GraphCredentials, MsalApps, RetryPolicy


class Sleeps(list[float]):
    """Records requested waits instead of sleeping (tests stay fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="session")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud.start() as instance:
        yield instance


@pytest.fixture(autouse=True)
def clean_cloud(cloud: LocalCloud) -> Iterator[None]:
    cloud.faults.clear()
    cloud.records.reset()
    yield
    cloud.faults.clear()


@pytest.fixture
def apps() -> Iterator[MsalApps]:
    registry = MsalApps()
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def credentials(cloud: LocalCloud) -> Callable[..., GraphCredentials]:
    def make(
        tenant_id: str = CONTOSO_TENANT_ID,
        client_id: str = CONTOSO_GRAPH_CLIENT_ID,
        client_secret: str | None = CONTOSO_GRAPH_CLIENT_SECRET,
        **extra: object,
    ) -> GraphCredentials:
        return GraphCredentials(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            authority_base_url=cloud.base_url,
            graph_base_url=cloud.graph_base_url,
            ca_bundle=str(cloud.ca_path),
            **extra,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def api_credentials(credentials: Callable[..., GraphCredentials]) -> GraphCredentials:
    return credentials(client_id=API_CLIENT_ID, client_secret=API_CLIENT_SECRET)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, rng=random.Random(7))


@pytest.fixture
def graph(
    credentials: Callable[..., GraphCredentials],
    apps: MsalApps,
    sleeps: Sleeps,
    fast_retry: RetryPolicy,
) -> Iterator[GraphClient]:
    with GraphClient(credentials(), apps=apps, retry=fast_retry, sleep=sleeps) as client:
        yield client
