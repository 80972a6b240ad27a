"""Intune policy collections: read with assignments, then restore (create + assign)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localcloud import LocalCloud
from localcloud.dataset import TenantDataset
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.graph import (
    GraphBadRequest,
    GraphClient,
    GraphCredentials,
    GraphForbidden,
    GraphNotFound,
    GraphOutcomeUnknown,
)

CONTOSO = TENANTS[0]
GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget"
EXCLUDE_TARGET = "#microsoft.graph.exclusionGroupAssignmentTarget"
FILTER_ID = "deviceAndAppManagementAssignmentFilterId"
FILTER_TYPE = "deviceAndAppManagementAssignmentFilterType"
# Entity types msgraph-metadata declares in beta only.
BETA_ONLY_CONFIGURATIONS = {
    f"#microsoft.graph.{name}"
    for name in (
        "windowsWifiConfiguration", "windows10VpnConfiguration",
        "windows10PkcsCertificateProfile", "windows81TrustedRootCertificate",
        "windowsDomainJoinConfiguration", "windowsKioskConfiguration",
        "macOSEndpointProtectionConfiguration", "androidDeviceOwnerGeneralDeviceConfiguration",
    )
}  # fmt: skip
BLOCK = {"actionType": "block", "gracePeriodHours": 24, "notificationTemplateId": "",
         "notificationMessageCCList": []}  # fmt: skip


def test_v1_hides_the_types_properties_and_filters_only_beta_declares(
    graph: GraphClient,
) -> None:
    seed = TenantDataset(CONTOSO)
    path = "/deviceManagement/deviceConfigurations"
    beta = list(graph.iter_items(path, {"$expand": "assignments"}, version="beta"))
    v1 = list(graph.iter_items(path, {"$expand": "assignments"}))
    assert {p["id"] for p in seed.device_configurations} <= {p["id"] for p in beta}
    beta_types = {p["@odata.type"] for p in beta}
    v1_types = {p["@odata.type"] for p in v1}
    assert BETA_ONLY_CONFIGURATIONS <= beta_types and not BETA_ONLY_CONFIGURATIONS & v1_types
    assert len(v1) == len(beta) - sum(p["@odata.type"] in BETA_ONLY_CONFIGURATIONS for p in beta)
    assert all({"roleScopeTagIds", "supportsScopeTags"} <= p.keys() for p in beta)
    assert not any({"roleScopeTagIds", "supportsScopeTags"} & p.keys() for p in v1)
    assert all(FILTER_ID not in a["target"] for p in v1 for a in p["assignments"])
    assert any(a["target"].get(FILTER_ID) for p in beta for a in p["assignments"])
    # A property only the beta type declares is left out of v1.0 too.
    macs = [p for p in v1 if p["@odata.type"].endswith("macOSGeneralDeviceConfiguration")]
    assert macs and not any("airDropBlocked" in p for p in macs)
    compliance = list(graph.iter_items("/deviceManagement/deviceCompliancePolicies"))
    owners = [
        p for p in seed.compliance_policies if p["@odata.type"].endswith("OwnerCompliancePolicy")
    ]
    assert owners and not {p["id"] for p in owners} & {p["id"] for p in compliance}
    beta_only = next(p["id"] for p in beta if p["@odata.type"] in BETA_ONLY_CONFIGURATIONS)
    assert graph.get(f"{path}/{beta_only}", version="beta")["id"] == beta_only
    with pytest.raises(GraphNotFound):
        graph.get(f"{path}/{beta_only}")


def test_settings_catalog_is_beta_only_and_pages_with_settings(graph: GraphClient) -> None:
    pages = list(
        graph.iter_pages(
            "/deviceManagement/configurationPolicies", {"$expand": "settings"}, version="beta"
        )
    )
    policies = [p for page in pages for p in page["value"]]
    assert len(pages) > 1 and len(policies) >= CONTOSO.configuration_policies
    short = [p for p in policies if "settings@odata.nextLink" in p]
    whole = [p for p in policies if "settings@odata.nextLink" not in p]
    assert all(p["settingCount"] == len(p["settings"]) >= 1 for p in whole)
    # More than 25 settings: the expanded list stops at 25 and links to the rest.
    big = short[0]
    assert len(big["settings"]) == 25 < big["settingCount"]
    rest = [s for page in graph.iter_pages(big["settings@odata.nextLink"]) for s in page["value"]]
    assert len(big["settings"]) + len(rest) == big["settingCount"]
    alone = list(
        graph.iter_pages(
            f"/deviceManagement/configurationPolicies/{big['id']}/settings", version="beta"
        )
    )
    assert [len(p["value"]) for p in alone] == [25, big["settingCount"] - 25]
    with pytest.raises(GraphBadRequest, match="configurationPolicies"):
        graph.get("/deviceManagement/configurationPolicies")


def test_compliance_actions_need_their_nested_expand(graph: GraphClient) -> None:
    seed = TenantDataset(CONTOSO)
    path = "/deviceManagement/deviceCompliancePolicies"
    plain = next(iter(graph.iter_items(path, version="beta")))
    assert "scheduledActionsForRule" not in plain  # a navigation property
    rules_only = graph.iter_items(path, {"$expand": "scheduledActionsForRule"}, version="beta")
    assert all(
        "scheduledActionConfigurations" not in rule
        for policy in rules_only
        for rule in policy["scheduledActionsForRule"]
    )
    expand = "assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)"
    full = list(graph.iter_items(path, {"$expand": expand}, version="beta"))
    seeded = {p["id"] for p in seed.compliance_policies}
    for policy in full:
        if policy["id"] in seeded:
            assert policy["scheduledActionsForRule"] == seed.scheduled_actions[policy["id"]]
    assert any(
        a["gracePeriodHours"] > 0 or a["actionType"] != "block"
        for p in full
        for r in p["scheduledActionsForRule"]
        for a in r["scheduledActionConfigurations"]
    )
    with pytest.raises(GraphBadRequest):
        graph.get(path, {"$expand": "scheduledActionsForRule($expand=nothing)"}, version="beta")
    with pytest.raises(GraphBadRequest, match="scheduledActionsForRule"):
        graph.get("/deviceManagement/deviceConfigurations", {"$expand": "scheduledActionsForRule"})


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


def _compliance(actions: list[dict[str, object]]) -> dict[str, object]:
    return {
        "@odata.type": "#microsoft.graph.iosCompliancePolicy",
        "displayName": "iOS strict",
        "passcodeRequired": True,
        "scheduledActionsForRule": [
            {"ruleName": "PasswordRequired", "scheduledActionConfigurations": actions}
        ],
    }


def test_creates_are_refused_as_graph_refuses_them(graph: GraphClient) -> None:
    configs = "/deviceManagement/deviceConfigurations"
    compliance = "/deviceManagement/deviceCompliancePolicies"
    general = {"@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "x"}
    with pytest.raises(GraphBadRequest, match="'notAProperty'"):
        graph.post(configs, {**general, "notAProperty": 1}, version="beta")
    with pytest.raises(GraphBadRequest, match="'roleScopeTagIds'"):
        graph.post(configs, {**general, "roleScopeTagIds": ["0"]})  # a beta-only property
    wifi = {"@odata.type": "#microsoft.graph.windowsWifiConfiguration", "displayName": "w"}
    with pytest.raises(GraphBadRequest, match="could not be resolved"):
        graph.post(configs, wifi)  # a beta-only type
    with pytest.raises(GraphBadRequest, match="displayName"):
        graph.post(configs, {"@odata.type": general["@odata.type"]}, version="beta")
    retire = {**BLOCK, "actionType": "retire", "gracePeriodHours": 720}
    for actions in ([], [retire], [BLOCK, BLOCK]):  # not exactly one block
        with pytest.raises(GraphBadRequest, match="block"):
            graph.post(compliance, _compliance(actions), version="beta")
    with pytest.raises(GraphBadRequest, match="'bogus'"):
        graph.post(compliance, _compliance([{**BLOCK, "bogus": 1}]), version="beta")
    created = graph.post(compliance, _compliance([BLOCK, retire]), version="beta")
    assert created is not None
    try:
        again = graph.get(
            f"{compliance}/{created['id']}",
            {"$expand": "scheduledActionsForRule($expand=scheduledActionConfigurations)"},
            version="beta",
        )
        [rule] = again["scheduledActionsForRule"]
        actions = [
            {k: v for k, v in a.items() if k != "id"} for a in rule["scheduledActionConfigurations"]
        ]
        assert actions == [BLOCK, retire]
    finally:
        graph.request("DELETE", f"{compliance}/{created['id']}", version="beta")


def test_assignment_filters_exist_only_in_beta_and_must_name_a_filter(
    graph: GraphClient,
) -> None:
    seed = TenantDataset(CONTOSO)
    configs = "/deviceManagement/deviceConfigurations"
    created = graph.post(
        configs,
        {"@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "F"},
        version="beta",
    )
    assert created is not None
    assign = f"{configs}/{created['id']}/assign"
    group = seed.groups[0]["id"]
    filtered = {
        "@odata.type": GROUP_TARGET,
        "groupId": group,
        FILTER_ID: seed.assignment_filters[0]["id"],
        FILTER_TYPE: "include",
    }
    try:
        with pytest.raises(GraphBadRequest, match=FILTER_ID):
            graph.post(assign, {"assignments": [{"target": filtered}]})  # v1.0
        for bad in (
            {**filtered, FILTER_ID: "00000000-0000-4000-8000-000000000000"},
            {**filtered, FILTER_TYPE: "sometimes"},
            {**filtered, "@odata.type": EXCLUDE_TARGET},
        ):
            with pytest.raises(GraphBadRequest):
                graph.post(assign, {"assignments": [{"target": bad}]}, version="beta")
        graph.post(assign, {"assignments": [{"target": filtered}]}, version="beta")
        [saved] = graph.get(f"{configs}/{created['id']}/assignments", version="beta")["value"]
        assert saved["target"] == filtered
        [plain] = graph.get(f"{configs}/{created['id']}/assignments")["value"]
        assert plain["target"] == {"@odata.type": GROUP_TARGET, "groupId": group}
    finally:
        graph.request("DELETE", f"{configs}/{created['id']}", version="beta")


def test_a_create_done_then_answered_504_is_not_resent_but_a_throttled_one_is(
    cloud: LocalCloud, graph: GraphClient
) -> None:
    configs = "/deviceManagement/deviceConfigurations"
    before = {p["id"] for p in graph.iter_items(configs, version="beta")}

    def create(name: str) -> None:
        body = {
            "@odata.type": "#microsoft.graph.windows10GeneralConfiguration",
            "displayName": name,
        }
        graph.post(configs, body, version="beta")

    def made(name: str) -> list[str]:
        return [
            p["id"]
            for p in graph.iter_items(configs, version="beta")
            if p["id"] not in before and p["displayName"] == name
        ]

    lost = cloud.faults.after_processing(route=f"/beta{configs}", method="POST")
    with pytest.raises(GraphOutcomeUnknown):
        create("lost answer")
    assert lost.hits == 1 and len(made("lost answer")) == 1  # done once, not resent
    # 429 is answered before any work: the client sends it again, and one policy results.
    cloud.faults.throttle(route=f"/beta{configs}", method="POST", retry_after=0, count=2)
    create("throttled")
    assert len(made("throttled")) == 1
    for policy_id in made("lost answer") + made("throttled"):
        graph.request("DELETE", f"{configs}/{policy_id}", version="beta")
