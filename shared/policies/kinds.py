"""The Intune policy kinds the run types handle, and where Graph keeps each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PolicyKindName = Literal["device_configurations", "compliance_policies", "settings_catalog"]


@dataclass(frozen=True)
class PolicyKind:
    name: PolicyKindName
    collection: str  # under /deviceManagement
    name_field: str  # the settings catalog calls its display name `name`
    expand: str  # what one list request brings along with each policy
    default_odata_type: str | None = None  # when Graph leaves @odata.type out
    # A collection Graph may cut short when expanded in a list, and the property that
    # says how many items it really holds (the settings catalog's `settingCount`).
    paged_child: str | None = None
    child_count_field: str | None = None
    # Every kind is read and written in beta: v1.0 leaves out whole profile types (Wi-Fi,
    # VPN, certificates, domain join, kiosk, Android fully managed, macOS endpoint
    # protection...), `roleScopeTagIds`, and the assignment filter of every target
    # (msgraph-metadata, schemas/type-mappings/v1.0-entity-types.json vs beta).
    version: str = "beta"

    @property
    def path(self) -> str:
        return f"/deviceManagement/{self.collection}"


DEVICE_CONFIGURATIONS = PolicyKind(
    "device_configurations", "deviceConfigurations", "displayName", "assignments"
)
# scheduledActionsForRule is a navigation property: a plain list leaves it out, and its
# own scheduledActionConfigurations need a nested $expand (deviceCompliancePolicy and
# deviceComplianceScheduledActionForRule in the metadata).
COMPLIANCE_POLICIES = PolicyKind(
    "compliance_policies",
    "deviceCompliancePolicies",
    "displayName",
    "assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)",
)
SETTINGS_CATALOG = PolicyKind(
    "settings_catalog",
    "configurationPolicies",
    "name",
    "settings,assignments",
    default_odata_type="#microsoft.graph.deviceManagementConfigurationPolicy",
    paged_child="settings",
    child_count_field="settingCount",
)

KINDS: dict[str, PolicyKind] = {
    k.name: k for k in (DEVICE_CONFIGURATIONS, COMPLIANCE_POLICIES, SETTINGS_CATALOG)
}
ALL_KIND_NAMES: tuple[PolicyKindName, ...] = (
    "compliance_policies",
    "device_configurations",
    "settings_catalog",
)


def kind_named(name: str) -> PolicyKind:
    return KINDS[name]
