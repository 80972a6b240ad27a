"""PolicyGraph.complete: a settings-catalog policy is stored with all of its settings,
or fails; never partial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.graph import GraphClient
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import COMPLIANCE_POLICIES, SETTINGS_CATALOG
from shared.policies.snapshot import MalformedPolicy

from .conftest import BASE

SETTINGS = f"{BASE}/beta/deviceManagement/configurationPolicies/p1/settings"


def _settings(first: int, last: int) -> list[dict[str, Any]]:
    return [
        {"id": str(n), "settingInstance": {"settingDefinitionId": f"d{n}"}}
        for n in range(first, last)
    ]


def _serve(
    pages: dict[str, dict[str, Any]], seen: list[str]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=pages[str(request.url)])

    return handler


def test_the_settings_next_link_is_followed(make_client: Callable[..., GraphClient]) -> None:
    seen: list[str] = []
    link = f"{SETTINGS}?$skiptoken=a"
    graph = PolicyGraph(make_client(_serve({link: {"value": _settings(25, 30)}}, seen)))
    listed = {
        "id": "p1",
        "settingCount": 30,
        "settings": _settings(0, 25),
        "settings@odata.nextLink": link,
    }
    completed = graph.complete(SETTINGS_CATALOG, listed)
    assert completed["settings"] == _settings(0, 30) and seen == [link]
    assert "settings@odata.nextLink" not in completed


def test_settings_are_read_alone_when_the_count_disagrees(
    make_client: Callable[..., GraphClient],
) -> None:
    seen: list[str] = []
    link = f"{SETTINGS}?$skiptoken=b"
    pages = {
        SETTINGS: {"value": _settings(0, 25), "@odata.nextLink": link},
        link: {"value": _settings(25, 40)},
    }
    graph = PolicyGraph(make_client(_serve(pages, seen)))
    cut = {"id": "p1", "settingCount": 40, "settings": _settings(0, 25)}  # no link at all
    assert graph.complete(SETTINGS_CATALOG, cut)["settings"] == _settings(0, 40)
    assert seen == [SETTINGS, link]


def test_a_policy_whose_settings_stay_short_fails(make_client: Callable[..., GraphClient]) -> None:
    seen: list[str] = []
    graph = PolicyGraph(make_client(_serve({SETTINGS: {"value": _settings(0, 3)}}, seen)))
    with pytest.raises(MalformedPolicy, match="settingCount is 5"):
        graph.complete(
            SETTINGS_CATALOG, {"id": "p1", "settingCount": 5, "settings": _settings(0, 3)}
        )


def test_whole_policies_and_other_kinds_cost_no_request(
    make_client: Callable[..., GraphClient],
) -> None:
    seen: list[str] = []
    graph = PolicyGraph(make_client(_serve({}, seen)))
    whole = {"id": "p1", "settingCount": 2, "settings": _settings(0, 2)}
    assert graph.complete(SETTINGS_CATALOG, whole) == whole
    compliance = {"id": "c1", "displayName": "x"}
    assert graph.complete(COMPLIANCE_POLICIES, compliance) is compliance
    assert seen == []
