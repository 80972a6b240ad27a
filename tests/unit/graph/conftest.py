"""A GraphClient on httpx.MockTransport: no network, no msal, recorded sleeps."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import httpx
import pytest

from shared.graph import GraphClient, GraphCredentials, RetryPolicy

TOKEN = "eyJ0eXAiOiJKV1QifQ.secret-token-body.sig"  # noqa: S105 - fake
BASE = "https://graph.test"

Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[Callable[..., GraphClient]]:
    clients: list[GraphClient] = []

    def make(handler: Handler, **options: object) -> GraphClient:
        creds = GraphCredentials("t1", "c1", client_secret="x", graph_base_url=BASE)
        options.setdefault("retry", RetryPolicy(max_attempts=4, rng=random.Random(3)))
        options.setdefault("sleep", sleeps)
        client = GraphClient.delegated(
            creds, TOKEN, transport=httpx.MockTransport(handler), **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def graph_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened", "innerError": {}}}
    return httpx.Response(status, json=body, headers=headers)
