"""sendMail, the Teams Workflows sink and JSON batching."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.seed import CONTOSO_TENANT_ID
from shared.graph import BatchRequest, GraphBadRequest, GraphClient, GraphNotFound

from .conftest import Sleeps

SENDER = "intune-runs@contoso.onmicrosoft.com"
MESSAGE = {
    "subject": "Run completed",
    "body": {"contentType": "HTML", "content": "<p>Done</p>"},
    "toRecipients": [{"emailAddress": {"address": "olivia.operator@contoso.onmicrosoft.com"}}],
}
CARD: dict[str, Any] = {
    "type": "message",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {"type": "AdaptiveCard", "version": "1.4", "body": []},
        }
    ],
}


def test_send_mail_is_recorded(cloud: LocalCloud, graph: GraphClient) -> None:
    assert graph.post(f"/users/{SENDER}/sendMail", {"message": MESSAGE}) is None
    sent = cloud.sent_mail(CONTOSO_TENANT_ID)
    assert len(sent) == 1 and sent[0].sender == SENDER
    assert sent[0].message["subject"] == "Run completed"


def test_send_mail_validation(cloud: LocalCloud, graph: GraphClient) -> None:
    with pytest.raises(GraphBadRequest) as caught:
        graph.post(f"/users/{SENDER}/sendMail", {"message": {**MESSAGE, "toRecipients": []}})
    assert caught.value.graph_code == "ErrorInvalidRecipients"
    with pytest.raises(GraphNotFound):
        graph.post("/users/nobody@contoso.onmicrosoft.com/sendMail", {"message": MESSAGE})
    assert cloud.sent_mail() == []


def test_teams_sink_accepts_cards_only(cloud: LocalCloud) -> None:
    url = cloud.teams_webhook_url("ops")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(cloud.ca_path))) as http:
        ok = http.post(url, json=CARD)
        not_a_card = http.post(url, json={"text": "hello"})
        wrong_type = http.post(
            url, json={**CARD, "attachments": [{**CARD["attachments"][0], "contentType": "text"}]}
        )
        too_big = http.post(url, content=b"x" * (29 * 1024))
    assert ok.status_code == 202
    assert not_a_card.status_code == 400 and wrong_type.status_code == 400
    assert too_big.status_code == 413
    posts = cloud.teams_posts("ops")
    assert len(posts) == 1 and posts[0].body == CARD


def test_batch_chunks_by_20_and_keeps_order(cloud: LocalCloud, graph: GraphClient) -> None:
    ids = [g["id"] for g in graph.get("/groups", {"$top": 45, "$select": "id"})["value"]]
    cloud.records.reset()
    responses = graph.batch([BatchRequest("GET", f"/groups/{i}") for i in ids])
    assert [r.body["id"] for r in responses] == ids and all(r.ok for r in responses)
    assert cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/$batch") == 3


def test_batch_retries_inner_throttling(
    cloud: LocalCloud, graph: GraphClient, sleeps: Sleeps
) -> None:
    requests = [BatchRequest("GET", "/groups?$top=1", id=f"r{i}") for i in range(5)]
    cloud.faults.throttle(route="/v1.0/groups*", count=3, retry_after=1)
    responses = graph.batch(requests)
    assert [r.id for r in responses] == [f"r{i}" for i in range(5)]
    assert all(r.status == 200 for r in responses)
    assert sleeps and all(s >= 1 for s in sleeps)
    cloud.faults.throttle(route="/v1.0/groups*", count=None, retry_after=1)
    stuck = graph.batch(requests[:2])
    assert [r.status for r in stuck] == [429, 429]
    assert stuck[0].header("retry-after") == "1"


def test_batch_with_a_body_and_the_20_limit(cloud: LocalCloud, graph: GraphClient) -> None:
    [mail] = graph.batch(
        [BatchRequest("POST", f"/users/{SENDER}/sendMail", body={"message": MESSAGE})]
    )
    assert mail.status == 202 and len(cloud.sent_mail()) == 1
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/groups"} for i in range(21)]}
    with pytest.raises(GraphBadRequest, match="20"):
        graph.post("/$batch", too_many)
