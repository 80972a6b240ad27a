"""Groups through GraphClient: paging, $select, $search rules, bearer checks, tenancy."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from localcloud import LocalCloud
from localcloud.seed import (
    CONTOSO_TENANT_ID,
    FABRIKAM_GRAPH_CLIENT_ID,
    FABRIKAM_GRAPH_CLIENT_SECRET,
    FABRIKAM_TENANT_ID,
    TENANTS,
)
from shared.graph import (
    GraphAuthError,
    GraphBadRequest,
    GraphClient,
    GraphCredentials,
    GraphError,
    GraphForbidden,
    GraphNotFound,
    MsalApps,
)

CONTOSO_GROUPS = TENANTS[0].groups
EVENTUAL = {"ConsistencyLevel": "eventual"}


def test_pages_through_every_group_with_opaque_next_links(
    cloud: LocalCloud, graph: GraphClient
) -> None:
    pages = list(graph.iter_pages("/groups", {"$top": 60, "$select": "id,displayName"}))
    assert len(pages) == math.ceil(CONTOSO_GROUPS / 60)
    ids = [g["id"] for page in pages for g in page["value"]]
    assert len(ids) == len(set(ids)) == CONTOSO_GROUPS
    assert all(set(g) == {"id", "displayName"} for p in pages for g in p["value"])
    link = pages[0]["@odata.nextLink"]
    assert link.startswith(f"{cloud.graph_base_url}/v1.0/groups?") and "$skiptoken=" in link
    assert "@odata.nextLink" not in pages[-1]


def test_default_page_size_is_100(graph: GraphClient) -> None:
    sizes = [len(page["value"]) for page in graph.iter_pages("/groups")]
    assert sizes[0] == 100 and sum(sizes) == CONTOSO_GROUPS


def test_top_above_999_is_rejected(graph: GraphClient) -> None:
    with pytest.raises(GraphBadRequest):
        graph.get("/groups", {"$top": 1000})


def test_search_needs_consistency_level(graph: GraphClient) -> None:
    with pytest.raises(GraphBadRequest) as caught:
        graph.get("/groups", {"$search": '"displayName:fin"'})
    assert caught.value.graph_code == "Request_UnsupportedQuery"
    assert "ConsistencyLevel" in str(caught.value)


def test_search_prefix_matches_words_and_counts(graph: GraphClient) -> None:
    page = graph.get("/groups", {"$search": '"displayName:fin"', "$count": "true"}, EVENTUAL)
    names = [g["displayName"] for g in page["value"]]
    assert "Finance Laptops" in names
    assert all(any(w.lower().startswith("fin") for w in n.replace("-", " ").split()) for n in names)
    assert page["@odata.count"] == len(names)
    nothing = graph.get("/groups", {"$search": '"displayName:zzzq"'}, EVENTUAL)
    assert nothing["value"] == []


def test_filter_startswith(graph: GraphClient) -> None:
    items = list(graph.iter_items("/groups", {"$filter": "startswith(displayName,'SG-Intune')"}))
    assert items and all(g["displayName"].startswith("SG-Intune") for g in items)


def test_group_by_id_and_missing_group(graph: GraphClient) -> None:
    first = graph.get("/groups", {"$top": 1})["value"][0]
    assert graph.get(f"/groups/{first['id']}")["displayName"] == first["displayName"]
    with pytest.raises(GraphNotFound):
        graph.get("/groups/00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda c: "not-a-jwt",
        lambda c: c.issue_app_token(CONTOSO_TENANT_ID, lifetime=-300),
        lambda c: c.issue_app_token(CONTOSO_TENANT_ID, audience="api://intune-runs-local"),
        lambda c: c.issue_app_token(CONTOSO_TENANT_ID)[:-8] + "AAAAAAAA",
    ],
    ids=["garbage", "expired", "wrong-audience", "bad-signature"],
)
def test_bad_bearer_tokens_get_401(
    cloud: LocalCloud,
    credentials: Callable[..., GraphCredentials],
    make_token: Callable[[LocalCloud], str],
) -> None:
    token = make_token(cloud)
    with GraphClient.delegated(credentials(), token) as client:
        with pytest.raises(GraphAuthError) as caught:
            client.get("/groups")
    assert caught.value.status == 401 and caught.value.graph_code == "InvalidAuthenticationToken"
    assert token not in str(caught.value)


def test_missing_permission_is_403(
    cloud: LocalCloud, credentials: Callable[..., GraphCredentials]
) -> None:
    token = cloud.issue_app_token(CONTOSO_TENANT_ID, roles=["Mail.Send"])
    with GraphClient.delegated(credentials(), token) as client:
        with pytest.raises(GraphForbidden) as caught:
            client.get("/groups")
    assert caught.value.graph_code == "Authorization_RequestDenied"


def test_each_tenant_sees_its_own_groups(
    credentials: Callable[..., GraphCredentials], apps: MsalApps
) -> None:
    fabrikam = credentials(
        FABRIKAM_TENANT_ID, FABRIKAM_GRAPH_CLIENT_ID, FABRIKAM_GRAPH_CLIENT_SECRET
    )
    with GraphClient(fabrikam, apps=apps) as client:
        count = sum(1 for _ in client.iter_items("/groups", {"$top": 999}))
    assert count == TENANTS[1].groups


def test_next_link_to_another_host_is_refused(graph: GraphClient) -> None:
    with pytest.raises(GraphError, match="outside Graph"):
        graph.get("https://evil.example/v1.0/groups")
