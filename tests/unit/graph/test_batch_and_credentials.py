"""$batch chunking and inner retries; credentials never show their secrets."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from shared.graph import (
    BatchRequest,
    CertificateCredential,
    GraphClient,
    GraphCredentials,
    GraphOutcomeUnknown,
    GraphServerError,
)

from .conftest import Sleeps


def test_batch_chunks_retries_inner_429_and_keeps_order(
    make_client: Callable[..., GraphClient], sleeps: Sleeps
) -> None:
    payloads: list[list[dict[str, object]]] = []
    throttled_once: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        payloads.append(items)
        answers = []
        for item in reversed(items):  # Graph may answer in any order
            if item["id"] in ("3", "25") and item["id"] not in throttled_once:
                throttled_once.add(item["id"])
                answers.append({"id": item["id"], "status": 429, "headers": {"Retry-After": "4"}})
            else:
                answers.append({"id": item["id"], "status": 200, "body": {"url": item["url"]}})
        return httpx.Response(200, json={"responses": answers})

    requests = [BatchRequest("GET", f"groups/{i}") for i in range(1, 46)]
    requests[0] = BatchRequest("POST", "/users/u/sendMail", body={"message": {}})
    out = make_client(handler).batch(requests)
    assert [r.id for r in out] == [str(i) for i in range(1, 46)]
    assert all(r.status == 200 for r in out) and out[1].body == {"url": "/groups/2"}
    assert [len(p) for p in payloads] == [20, 1, 20, 1, 5]
    assert payloads[0][0]["headers"] == {"Content-Type": "application/json"}
    assert len(sleeps) == 2 and all(4 <= s <= 4.5 for s in sleeps)


def test_batch_resends_inner_reads_after_504_but_never_an_inner_create(
    make_client: Callable[..., GraphClient], sleeps: Sleeps
) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        sent.extend(item["method"] for item in items)
        answers = [{"id": i["id"], "status": 504, "body": {}} for i in items]
        return httpx.Response(200, json={"responses": answers})

    requests = [BatchRequest("GET", "/groups/1"), BatchRequest("POST", "/users/u/sendMail")]
    out = make_client(handler).batch(requests)
    assert sent.count("POST") == 1 and sent.count("GET") == 4  # every attempt of the read
    assert [r.status for r in out] == [504, 504]


def test_an_outer_batch_is_resent_after_504_only_when_it_holds_only_reads(
    make_client: Callable[..., GraphClient],
) -> None:
    outer: list[int] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        outer.append(len(json.loads(request.content)["requests"]))
        return httpx.Response(504, json={"error": {"code": "GatewayTimeout"}})

    client = make_client(gateway)
    with pytest.raises(GraphOutcomeUnknown):
        client.batch([BatchRequest("POST", "/users/u/sendMail", body={"message": {}})])
    assert outer == [1]
    with pytest.raises(GraphServerError):
        client.batch([BatchRequest("GET", "/groups/1")])
    assert outer == [1, 1, 1, 1, 1]


def test_batch_rejects_duplicate_ids(make_client: Callable[..., GraphClient]) -> None:
    client = make_client(lambda r: httpx.Response(500))
    with pytest.raises(ValueError, match="unique"):
        client.batch([BatchRequest("GET", "/a", id="x"), BatchRequest("GET", "/b", id="x")])


def test_credentials_hide_secrets_and_validate() -> None:
    creds = GraphCredentials("T1", "c", client_secret="hunter2")
    assert "hunter2" not in repr(creds) and creds.tenant_id == "t1"
    assert creds.authority == "https://login.microsoftonline.com/t1" and creds.is_public_cloud
    cert = GraphCredentials("t", "c", certificate=CertificateCredential("PEM-KEY", "AB12"))
    assert "PEM-KEY" not in repr(cert)
    assert cert.msal_credential() == {"private_key": "PEM-KEY", "thumbprint": "AB12"}
    with pytest.raises(ValueError):
        GraphCredentials("t", "c")
    with pytest.raises(ValueError):
        GraphCredentials("t", "c", client_secret="s", authority_base_url="http://127.0.0.1:1")


def test_rotated_secret_gets_its_own_msal_app() -> None:
    old = GraphCredentials("t", "c", client_secret="old")
    new = GraphCredentials("t", "c", client_secret="new")
    assert old.cache_key != new.cache_key
    assert "old" not in "".join(old.cache_key) and "new" not in "".join(new.cache_key)
