"""The pure rules of the Intune run types: policy checks, restore bodies, group mapping,
input normalisation."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InputInvalid, PayloadTooLarge
from shared.policies.kinds import COMPLIANCE_POLICIES, DEVICE_CONFIGURATIONS, SETTINGS_CATALOG
from shared.policies.snapshot import MalformedPolicy, parse_policy
from shared.restore.payload import (
    ComplianceActionsMissing,
    creation_body,
    map_assignments,
    restore_marker,
)
from shared.run_types.declarations import BackupCaptureInputs, PolicySyncInputs, RestoreInputs
from shared.runs.run_type import RunType

G1, G2, G3 = (f"{n}0000000-0000-4000-8000-000000000000" for n in (1, 2, 3))
GROUP = "#microsoft.graph.groupAssignmentTarget"
EXCLUDE = "#microsoft.graph.exclusionGroupAssignmentTarget"
ALL_DEVICES = "#microsoft.graph.allDevicesAssignmentTarget"


def _target(kind: str, group: str | None = None) -> dict[str, Any]:
    return {"target": {"@odata.type": kind, **({"groupId": group} if group else {})}}


def test_parse_policy_refuses_what_cannot_be_stored_or_restored() -> None:
    good = {"id": "abc-1", "displayName": "P", "@odata.type": "#microsoft.graph.x"}
    assert parse_policy(DEVICE_CONFIGURATIONS, good).key == "device_configurations~abc-1"
    for bad in (
        {**good, "id": "a/b"},  # not a table key
        {k: v for k, v in good.items() if k != "displayName"},
        {**good, "@odata.type": None},
        {**good, "assignments": [{"target": {"@odata.type": GROUP}}]},  # group without id
        ["not", "an", "object"],
    ):
        with pytest.raises(MalformedPolicy):
            parse_policy(DEVICE_CONFIGURATIONS, bad)
    # The settings catalog names policies `name` and may omit @odata.type.
    assert parse_policy(SETTINGS_CATALOG, {"id": "s1", "name": "SC"}).odata_type.endswith(
        "deviceManagementConfigurationPolicy"
    )


ACTIONS = [
    {
        "id": "rule-1",
        "ruleName": "PasswordRequired",
        "scheduledActionConfigurations@odata.context": "https://graph/$metadata#x",
        "scheduledActionConfigurations": [
            {"id": "a1", "actionType": "block", "gracePeriodHours": 72,
             "notificationTemplateId": "", "notificationMessageCCList": []},
            {"id": "a2", "actionType": "retire", "gracePeriodHours": 720,
             "notificationTemplateId": "", "notificationMessageCCList": []},
        ],
    }
]  # fmt: skip


def test_creation_body_strips_server_fields_and_carries_the_marker() -> None:
    policy = {
        "@odata.type": "#microsoft.graph.windows10CompliancePolicy",
        "@odata.context": "https://graph/$metadata",
        "id": "old",
        "createdDateTime": "x",
        "lastModifiedDateTime": "y",
        "version": 3,
        "displayName": "Baseline",
        "description": "Windows baseline",
        "passwordRequired": True,
        "roleScopeTagIds": ["0", "7"],
        "scheduledActionsForRule@odata.context": "https://graph/$metadata#y",
        "scheduledActionsForRule": ACTIONS,
    }
    marker = restore_marker("RUN1", "old")
    body = creation_body(COMPLIANCE_POLICIES, policy, marker)
    assert body["description"] == f"Windows baseline\n{marker}"
    assert {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "version",
        "@odata.context",
        "scheduledActionsForRule@odata.context",
    }.isdisjoint(body)
    assert body["@odata.type"] == policy["@odata.type"] and body["passwordRequired"] is True
    assert body["roleScopeTagIds"] == ["0", "7"]
    # The original actions, grace periods included, without their server ids.
    [rule] = body["scheduledActionsForRule"]
    assert rule == {
        "ruleName": "PasswordRequired",
        "scheduledActionConfigurations": [
            {k: v for k, v in a.items() if k != "id"}
            for a in ACTIONS[0]["scheduledActionConfigurations"]
        ],
    }
    catalog = creation_body(SETTINGS_CATALOG, {"name": "SC", "settingCount": 2}, marker)
    assert catalog == {"name": "SC", "description": marker}


def test_a_compliance_policy_without_captured_actions_is_not_restored_with_defaults() -> None:
    policy = {"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "iOS"}
    for actions in (None, [], [{"ruleName": "PasswordRequired"}]):
        with pytest.raises(ComplianceActionsMissing):
            creation_body(COMPLIANCE_POLICIES, {**policy, "scheduledActionsForRule": actions}, "m")


def test_settings_and_priority_survive_without_server_ids() -> None:
    setting = {
        "id": "0",
        "settingInstance": {"@odata.type": "#x.choice", "settingDefinitionId": "d"},
        "settingDefinitions@odata.context": "ctx",
    }
    policy = {
        "name": "SC",
        "settings": [setting],
        "priorityMetaData": {"priority": 7},
        "settings@odata.context": "ctx",
    }
    body = creation_body(SETTINGS_CATALOG, policy, "m")
    assert body["settings"] == [{"settingInstance": setting["settingInstance"]}]
    assert body["priorityMetaData"] == {"priority": 7}
    unset = creation_body(SETTINGS_CATALOG, {"name": "SC", "priorityMetaData": None}, "m")
    assert "priorityMetaData" not in unset


def test_group_mapping_retargets_and_reports_unmapped_groups() -> None:
    assignments = [
        _target(GROUP, G1),
        _target(EXCLUDE, G2.upper()),
        _target(GROUP, G3),
        _target(ALL_DEVICES),
    ]
    mapped = map_assignments(assignments, {G1: "t1", G2: "t2"})
    assert [a["target"].get("groupId") for a in mapped.targets] == ["t1", "t2", None]
    assert mapped.unmapped_groups == [G3]
    assert assignments[0]["target"]["groupId"] == G1  # the backup's data is not changed


def test_inputs_are_normalised_so_equal_requests_are_the_same_run() -> None:
    sync = RunType("policy.sync", "", "", PolicySyncInputs, lambda c, i: None)
    assert sync.normalize({}) == sync.normalize(
        {"policy_types": ["settings_catalog", "device_configurations", "compliance_policies"]}
    )
    capture = RunType("backup.capture", "", "", BackupCaptureInputs, lambda c, i: None)
    assert capture.normalize({"policy_ids": ["B", "a", "b"]})["policy_ids"] == ["a", "b"]
    restore = RunType("restore.execute", "", "", RestoreInputs, lambda c, i: None)
    normal = restore.normalize(
        {"backup_set_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "group_mapping": {G1.upper(): G2}}
    )
    assert normal["group_mapping"] == {G1: G2} and normal["dry_run"] is False
    too_many = {f"{i:08x}-0000-4000-8000-000000000000": G1 for i in range(151)}
    with pytest.raises(InputInvalid):
        restore.normalize(
            {"backup_set_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "group_mapping": too_many}
        )
    biggest = {
        "backup_set_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "group_mapping": dict(list(too_many.items())[:150]),
        "policy_ids": [f"{i:08x}-0000-4000-8000-000000000000" for i in range(100)],
    }
    try:
        restore.normalize(biggest)  # the limits keep the largest inputs storable
    except PayloadTooLarge:  # pragma: no cover - the assertion below explains
        pytest.fail("the input limits allow inputs larger than a run can store")


def test_the_catalogue_offers_the_four_types_with_their_input_schemas() -> None:
    from typing import cast

    from shared.run_types.catalogue import build_registry
    from shared.run_types.run_type_deps import RunTypeDeps

    registry = build_registry(include_diagnostics=False, deps=cast(RunTypeDeps, object()))
    entries = {t.name: t for t in registry}
    assert sorted(entries) == [
        "backup.capture",
        "directory_groups.sync",
        "policy.sync",
        "restore.execute",
    ]
    assert all(t.title and t.description for t in entries.values())
    assert entries["restore.execute"].json_schema()["required"] == ["backup_set_id"]
    assert entries["directory_groups.sync"].json_schema()["additionalProperties"] is False


@pytest.mark.parametrize("diagnostics", [False, True])
def test_the_catalogue_declarations_are_the_registered_run_types(diagnostics: bool) -> None:
    """The catalogue route reads the declarations only (no Graph); the worker runs the
    registry: both must describe the same run types the same way."""
    from dataclasses import fields
    from typing import cast

    from shared.run_types.catalogue import build_registry
    from shared.run_types.declarations import declared
    from shared.run_types.run_type_deps import RunTypeDeps
    from shared.runs.run_type import RunTypeDeclaration

    deps = cast(RunTypeDeps, object())  # the makers only close over it
    registry = build_registry(include_diagnostics=diagnostics, deps=deps)
    names = [f.name for f in fields(RunTypeDeclaration)]
    as_declared = [
        [getattr(d, n) for n in names] for d in declared(include_diagnostics=diagnostics)
    ]
    assert as_declared == [[getattr(t, n) for n in names] for t in registry]
