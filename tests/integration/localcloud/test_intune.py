"""Intune policy collections: read with assignments, then restore (create + assign)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localcloud import LocalCloud
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.graph import (
    GraphBadRequest,
    GraphClient,
    GraphCredentials,
    GraphForbidden,
    GraphNotFound,
)

CONTOSO = TENANTS[0]
GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget"


def test_device_configurations_and_compliance_policies(graph: GraphClient) -> None:
    configs = list(graph.iter_items("/deviceManagement/deviceConfigurations"))
    compliance = list(graph.iter_items("/deviceManagement/deviceCompliancePolicies"))
    assert len(configs) == CONTOSO.device_configurations
    assert len(compliance) == CONTOSO.compliance_policies
    assert all(c["@odata.type"].startswith("#microsoft.graph.") for c in configs + compliance)
    assert all(c["displayName"] for c in configs + compliance)


def test_settings_catalog_is_beta_only_and_pages_with_settings(graph: GraphClient) -> None:
    pages = list(
        graph.iter_pages(
            "/deviceManagement/configurationPolicies", {"$expand": "settings"}, version="beta"
        )
    )
    policies = [p for page in pages for p in page["value"]]
    assert len(pages) > 1 and len(policies) == CONTOSO.configuration_policies
    assert all(p["settingCount"] == len(p["settings"]) >= 1 for p in policies)
    with pytest.raises(GraphBadRequest, match="configurationPolicies"):
        graph.get("/deviceManagement/configurationPolicies")


def test_policy_assignments_name_existing_groups(graph: GraphClient) -> None:
    group_ids = {g["id"] for g in graph.iter_items("/groups", {"$top": 999, "$select": "id"})}
    policy = next(iter(graph.iter_items("/deviceManagement/deviceConfigurations")))
    fetched = graph.get(f"/deviceManagement/deviceConfigurations/{policy['id']}")
    assert fetched["displayName"] == policy["displayName"]
    assignments = graph.get(f"/deviceManagement/deviceConfigurations/{policy['id']}/assignments")
    for assignment in assignments["value"]:
        if "groupId" in assignment["target"]:
            assert assignment["target"]["groupId"] in group_ids
    with pytest.raises(GraphNotFound):
        graph.get("/deviceManagement/deviceConfigurations/00000000-0000-4000-8000-000000000000")


def test_restore_creates_and_assigns_a_settings_catalog_policy(graph: GraphClient) -> None:
    source = graph.get(
        "/deviceManagement/configurationPolicies",
        {"$expand": "settings", "$top": 1},
        version="beta",
    )["value"][0]
    body = {
        "name": f"{source['name']} (restored)",
        "description": source["description"],
        "platforms": source["platforms"],
        "technologies": source["technologies"],
        "roleScopeTagIds": source["roleScopeTagIds"],
        "settings": source["settings"],
    }
    created = graph.post("/deviceManagement/configurationPolicies", body, version="beta")
    assert created is not None and created["id"] != source["id"]
    target = graph.get("/groups", {"$top": 1})["value"][0]["id"]
    assign = {"assignments": [{"target": {"@odata.type": GROUP_TARGET, "groupId": target}}]}
    graph.post(
        f"/deviceManagement/configurationPolicies/{created['id']}/assign", assign, version="beta"
    )
    again = graph.get(
        f"/deviceManagement/configurationPolicies/{created['id']}",
        {"$expand": "settings,assignments"},
        version="beta",
    )
    assert again["settingCount"] == len(source["settings"]) and again["isAssigned"] is True
    assert [a["target"]["groupId"] for a in again["assignments"]] == [target]


def test_create_validation_and_unknown_group(graph: GraphClient) -> None:
    with pytest.raises(GraphBadRequest, match="scheduledActionsForRule"):
        graph.post(
            "/deviceManagement/deviceCompliancePolicies",
            {"@odata.type": "#microsoft.graph.windows10CompliancePolicy", "displayName": "x"},
        )
    created = graph.post(
        "/deviceManagement/deviceConfigurations",
        {"@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "New"},
    )
    assert created is not None and created["version"] == 1
    missing = {"target": {"@odata.type": GROUP_TARGET, "groupId": "0000-not-a-group"}}
    with pytest.raises(GraphBadRequest, match="not found"):
        graph.post(
            f"/deviceManagement/deviceConfigurations/{created['id']}/assign",
            {"assignments": [missing]},
        )


def test_read_only_app_cannot_create(
    cloud: LocalCloud, credentials: Callable[..., GraphCredentials]
) -> None:
    token = cloud.issue_app_token(
        CONTOSO_TENANT_ID, roles=["DeviceManagementConfiguration.Read.All"]
    )
    with GraphClient.delegated(credentials(), token) as client:
        assert client.get("/deviceManagement/deviceConfigurations", {"$top": 1})["value"]
        with pytest.raises(GraphForbidden):
            client.post(
                "/deviceManagement/deviceConfigurations",
                {
                    "@odata.type": "#microsoft.graph.windows10GeneralConfiguration",
                    "displayName": "x",
                },
            )
