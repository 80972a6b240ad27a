"""The Intune policy kinds the run types handle, and where Graph keeps each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PolicyKindName = Literal["device_configurations", "compliance_policies", "settings_catalog"]


@dataclass(frozen=True)
class PolicyKind:
    name: PolicyKindName
    collection: str  # under /deviceManagement
    version: str  # the settings catalog exists only in beta
    name_field: str  # the settings catalog calls its display name `name`
    expand: str  # what one list request brings along with each policy
    default_odata_type: str | None = None  # when Graph leaves @odata.type out

    @property
    def path(self) -> str:
        return f"/deviceManagement/{self.collection}"


DEVICE_CONFIGURATIONS = PolicyKind(
    "device_configurations", "deviceConfigurations", "v1.0", "displayName", "assignments"
)
COMPLIANCE_POLICIES = PolicyKind(
    "compliance_policies", "deviceCompliancePolicies", "v1.0", "displayName", "assignments"
)
SETTINGS_CATALOG = PolicyKind(
    "settings_catalog",
    "configurationPolicies",
    "beta",
    "name",
    "settings,assignments",
    default_odata_type="#microsoft.graph.deviceManagementConfigurationPolicy",
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
