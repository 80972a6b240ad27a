"""Delegated group search (on-behalf-of) and the structural Graph-free read routes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID

from .conftest import Stack

ROOT = Path(__file__).resolve().parents[2]


def groups(stack: Stack, who: str, tenant: str, **params: str) -> object:
    with stack.client(who) as http:
        return http.get(f"/api/tenants/{tenant}/directory/groups", params=params)


def test_group_search_acts_on_behalf_of_the_user(stack: Stack) -> None:
    before = stack.cloud.token_requests(
        CONTOSO_TENANT_ID, "urn:ietf:params:oauth:grant-type:jwt-bearer"
    )
    with stack.client("operator") as http:
        reply = http.get(
            f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups", params={"search": "sg"}
        )
        assert reply.status_code == 200, reply.text
        items = reply.json()["items"]
        assert items and all(set(i) == {"id", "display_name"} for i in items)
        assert all("sg" in i["display_name"].lower() for i in items)
        narrow = http.get(
            f"/api/tenants/{CONTOSO_TENANT_ID}/directory/groups",
            params={"search": items[0]["display_name"]},
        ).json()["items"]
        assert items[0]["id"] in {i["id"] for i in narrow}
    after = stack.cloud.token_requests(
        CONTOSO_TENANT_ID, "urn:ietf:params:oauth:grant-type:jwt-bearer"
    )
    assert after > before  # the on-behalf-of exchange happened against the managed tenant


def test_group_search_is_403_for_app_only_callers(stack: Stack) -> None:
    reply = groups(stack, "app", CONTOSO_TENANT_ID, search="sg")
    assert reply.status_code == 403  # type: ignore[attr-defined]
    assert reply.json()["error"]["code"] == "delegated_token_required"  # type: ignore[attr-defined]


def test_group_search_is_403_when_the_token_cannot_be_exchanged(stack: Stack) -> None:
    stack.cloud.set_consent(FABRIKAM_TENANT_ID, [])
    try:
        reply = groups(stack, "operator", FABRIKAM_TENANT_ID, search="sg")
    finally:
        stack.cloud.set_consent(FABRIKAM_TENANT_ID, ["User.Read", "GroupMember.Read.All"])
    assert reply.status_code == 403, reply.text  # type: ignore[attr-defined]
    assert reply.json()["error"]["code"] == "delegated_token_required"  # type: ignore[attr-defined]


def test_group_search_validates_the_query(stack: Stack) -> None:
    for params in ({}, {"search": ""}, {"search": "x" * 500}, {"search": "a", "top": "0"}):
        reply = groups(stack, "operator", CONTOSO_TENANT_ID, **params)
        assert reply.status_code == 422, reply.text  # type: ignore[attr-defined]
    odd = groups(stack, "operator", CONTOSO_TENANT_ID, search='" OR "displayName:a')
    assert odd.status_code in (200, 502), odd.text  # type: ignore[attr-defined]


def test_graph_trouble_during_search_is_a_clean_5xx(stack: Stack) -> None:
    stack.cloud.faults.add("unreachable", route="/v1.0/groups*", remaining=None)
    reply = groups(stack, "operator", CONTOSO_TENANT_ID, search="sg")
    assert reply.status_code == 503, reply.text  # type: ignore[attr-defined]
    assert set(reply.json()) == {"error"}  # type: ignore[attr-defined]


def test_every_read_route_serves_with_graph_unreachable(stack: Stack) -> None:
    for prefix in ("/v1.0/*", "/beta/*", "/*/oauth2/*"):
        stack.cloud.faults.add("unreachable", route=prefix, remaining=None)
    graph_before = stack.cloud.graph_requests()
    with stack.client("operator") as http:
        run = http.post(
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            json={"type": "diagnostics.noop", "inputs": {"label": "graph-down"}},
        ).json()["run"]
        for path in (
            "/api/health",
            "/api/tenants",
            "/api/operation-types",
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations?status=queued&limit=5",
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{run['id']}",
        ):
            reply = http.get(path)
            assert reply.status_code == 200, (path, reply.text)
    assert stack.cloud.graph_requests() == graph_before


def test_import_contract_keeps_read_routes_away_from_graph() -> None:
    result = subprocess.run(  # the same check `make contracts` runs
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert "Read routes cannot reach Graph KEPT" in result.stdout, result.stdout[-3000:]
