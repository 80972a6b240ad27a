"""GraphClient behaviour against scripted responses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.errors import AppError, TransientError
from shared.graph import (
    GraphAuthError,
    GraphBadRequest,
    GraphClient,
    GraphError,
    GraphForbidden,
    GraphMalformedResponse,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphServerError,
    GraphThrottled,
    GraphTransientError,
)

from .conftest import BASE, TOKEN, Sleeps, graph_error

MakeClient = Callable[..., GraphClient]


def scripted(*responses: httpx.Response, seen: list[httpx.Request] | None = None):  # type: ignore[no-untyped-def]
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def test_sends_bearer_and_builds_versioned_urls(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []
    client = make_client(scripted(httpx.Response(200, json={"value": []}), seen=seen))
    client.get("/groups", {"$top": 5})
    client.get("deviceManagement/configurationPolicies", version="beta")
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(seen[0].url) == f"{BASE}/v1.0/groups?%24top=5"
    assert seen[1].url.path == "/beta/deviceManagement/configurationPolicies"


def test_429_retry_after_is_honoured(make_client: MakeClient, sleeps: Sleeps) -> None:
    seen: list[httpx.Request] = []
    handler = scripted(
        graph_error(429, "TooManyRequests", {"Retry-After": "7"}),
        graph_error(503, "serviceNotAvailable"),
        httpx.Response(200, json={"ok": True}),
        seen=seen,
    )
    assert make_client(handler).get("/groups") == {"ok": True}
    assert len(seen) == 3 and len(sleeps) == 2
    assert 7 <= sleeps[0] <= 7.7 and 0 < sleeps[1] <= 1.0  # no Retry-After: back-off


def test_throttling_that_never_ends(make_client: MakeClient, sleeps: Sleeps) -> None:
    handler = scripted(graph_error(429, "TooManyRequests", {"Retry-After": "2"}))
    with pytest.raises(GraphThrottled) as caught:
        make_client(handler).get("/groups")
    error = caught.value
    assert isinstance(error, TransientError) and isinstance(error, GraphError)
    assert isinstance(error, AppError) and error.retry_after == 2 and len(sleeps) == 3
    assert error.code == "graph_throttled" and error.status == 429


def test_504_exhaustion_is_a_transient_server_error(make_client: MakeClient) -> None:
    with pytest.raises(GraphServerError) as caught:
        make_client(scripted(graph_error(504, "GatewayTimeout"))).get("/groups")
    assert isinstance(caught.value, TransientError) and caught.value.status == 504


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, GraphBadRequest), (401, GraphAuthError), (403, GraphForbidden),
     (404, GraphNotFound), (409, GraphError), (500, GraphServerError)],
)  # fmt: skip
def test_status_mapping_without_retry(
    make_client: MakeClient, sleeps: Sleeps, status: int, kind: type[GraphError]
) -> None:
    with pytest.raises(kind) as caught:
        make_client(scripted(graph_error(status, "SomeCode"))).get("/groups")
    assert type(caught.value) is kind and sleeps == []
    assert caught.value.graph_code == "SomeCode"


def test_error_messages_hold_no_query_and_no_token(make_client: MakeClient) -> None:
    handler = scripted(graph_error(403, "Authorization_RequestDenied"))
    with pytest.raises(GraphForbidden) as caught:
        make_client(handler).get("/users/a@b.test/messages", {"$search": '"salary"'})
    text = str(caught.value)
    assert "GET /v1.0/users/a@b.test/messages returned 403 (Authorization_RequestDenied)" in text
    assert "salary" not in text and TOKEN not in text and "secret" not in text


def test_transport_errors_get_retried_only_when_safe(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        if request.method == "POST":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"ok": 1})

    client = make_client(flaky)
    assert client.get("/groups") == {"ok": 1}
    with pytest.raises(GraphTransientError, match="ReadTimeout"):
        client.post("/groups", {"displayName": "x"})
    assert calls == ["GET", "GET", "POST"] and len(sleeps) == 1


def test_iter_pages_follows_next_links(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []
    handler = scripted(
        httpx.Response(
            200,
            json={
                "value": [{"n": 1}, {"n": 2}],
                "@odata.nextLink": f"{BASE}/v1.0/groups?$skiptoken=abc",
            },
        ),
        httpx.Response(200, json={"value": [{"n": 3}]}),
        seen=seen,
    )
    items = list(make_client(handler).iter_items("/groups", {"$top": 2}))
    assert items == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert seen[1].url.params["$skiptoken"] == "abc" and "$top" not in seen[1].url.params


def test_iter_pages_rejects_loops_and_foreign_links(make_client: MakeClient) -> None:
    loop = f"{BASE}/v1.0/groups?$skiptoken=same"
    handler = scripted(httpx.Response(200, json={"value": [], "@odata.nextLink": loop}))
    with pytest.raises(GraphMalformedResponse):
        list(make_client(handler).iter_pages("/groups"))
    foreign = scripted(
        httpx.Response(200, json={"value": [], "@odata.nextLink": "https://evil.test/v1.0/x"})
    )
    with pytest.raises(GraphError, match="outside Graph"):
        list(make_client(foreign).iter_pages("/groups"))


def test_malformed_bodies(make_client: MakeClient) -> None:
    with pytest.raises(GraphMalformedResponse):
        make_client(scripted(httpx.Response(200, content=b'{"value": ['))).get("/groups")
    with pytest.raises(GraphMalformedResponse):
        list(make_client(scripted(httpx.Response(200, json={"x": 1}))).iter_pages("/groups"))


def test_post_returns_none_for_202(make_client: MakeClient) -> None:
    assert make_client(scripted(httpx.Response(202))).post("/users/x/sendMail", {}) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_create_answered_5xx_is_not_resent_and_its_outcome_is_unknown(
    make_client: MakeClient, sleeps: Sleeps, status: int
) -> None:
    seen: list[httpx.Request] = []
    client = make_client(scripted(graph_error(status, "GatewayTimeout"), seen=seen))
    with pytest.raises(GraphOutcomeUnknown) as caught:
        client.post("/deviceManagement/deviceConfigurations", {"displayName": "x"})
    assert len(seen) == 1 and sleeps == []  # sent once: it may have been created
    assert isinstance(caught.value, TransientError) and caught.value.status == status


def test_a_create_whose_answer_is_lost_is_not_resent(make_client: MakeClient) -> None:
    calls: list[str] = []

    def lost(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.RemoteProtocolError("server hung up", request=request)

    with pytest.raises(GraphOutcomeUnknown, match="RemoteProtocolError"):
        make_client(lost).post("/users/u/sendMail", {"message": {}})
    assert calls == ["POST"]


def test_a_throttled_create_is_resent_because_graph_did_not_process_it(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    seen: list[httpx.Request] = []
    client = make_client(
        scripted(
            graph_error(429, "TooManyRequests", {"Retry-After": "2"}),
            httpx.Response(201, json={"id": "p1"}),
            seen=seen,
        )
    )
    assert client.post("/deviceManagement/deviceConfigurations", {}) == {"id": "p1"}
    assert len(seen) == 2 and len(sleeps) == 1 and sleeps[0] >= 2


def test_an_idempotent_post_is_resent_after_504(make_client: MakeClient, sleeps: Sleeps) -> None:
    seen: list[httpx.Request] = []
    client = make_client(
        scripted(graph_error(504, "GatewayTimeout"), httpx.Response(200, json={}), seen=seen)
    )
    client.post("/deviceManagement/deviceConfigurations/p1/assign", {}, idempotent=True)
    assert len(seen) == 2 and len(sleeps) == 1
    # A read that fails the same way is a plain server error, not an unknown outcome.
    with pytest.raises(GraphServerError) as caught:
        make_client(scripted(graph_error(504, "GatewayTimeout"))).get("/groups")
    assert not isinstance(caught.value, GraphOutcomeUnknown)
