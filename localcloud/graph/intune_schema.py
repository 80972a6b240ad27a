"""Which Intune types and properties each Graph version has, for the types we serve.

Taken from Microsoft Graph's published metadata (msgraph-metadata,
schemas/type-mappings/{v1.0,beta}-entity-types.json and -complex-types.json). Only the
properties the local tenants use are listed: an unlisted property is refused on create
even where Graph would take it, which keeps the stand-in stricter than Graph, never more
lenient. What v1.0 lacks, it neither serves nor accepts:

- whole profile types (Wi-Fi, VPN, PKCS and trusted certificates, domain join, kiosk,
  Android fully managed, macOS endpoint protection) are beta-only entity types;
- `roleScopeTagIds` (and `supportsScopeTags`, `deviceManagementApplicabilityRule*`) are
  declared on the beta deviceConfiguration / deviceCompliancePolicy only;
- `deviceAndAppManagementAssignmentFilterId`/`Type` are declared on the beta
  deviceAndAppManagementAssignmentTarget only (v1.0 declares no property on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

V1, BETA = "v1.0", "beta"
BOTH = frozenset({V1, BETA})
BETA_ONLY = frozenset({BETA})

FILTER_ID = "deviceAndAppManagementAssignmentFilterId"
FILTER_TYPE = "deviceAndAppManagementAssignmentFilterType"
TARGET_FILTER_FIELDS = (FILTER_ID, FILTER_TYPE)
# deviceAndAppManagementAssignmentFilterType (beta enum-types).
FILTER_TYPES = ("none", "include", "exclude")

# Declared on the base entity types. Server-set ones are served but ignored on create.
_BASE_V1 = frozenset(
    {"id", "createdDateTime", "description", "displayName", "lastModifiedDateTime", "version"}
)
BASE_PROPERTIES: dict[str, dict[str, frozenset[str]]] = {
    "deviceConfiguration": {
        V1: _BASE_V1,
        BETA: _BASE_V1
        | {
            "roleScopeTagIds", "supportsScopeTags", "deviceManagementApplicabilityRuleDeviceMode",
            "deviceManagementApplicabilityRuleOsEdition",
            "deviceManagementApplicabilityRuleOsVersion",
        },
    },
    "deviceCompliancePolicy": {V1: _BASE_V1, BETA: _BASE_V1 | {"roleScopeTagIds"}},
}  # fmt: skip


@dataclass(frozen=True)
class DerivedType:
    entity: str  # the base entity type
    versions: frozenset[str]
    properties: frozenset[str]  # declared on the type, in every version it exists in
    beta_properties: frozenset[str] = frozenset()  # declared on the beta type only


def _config(props: str, beta: str = "", versions: frozenset[str] = BOTH) -> DerivedType:
    return DerivedType(
        "deviceConfiguration", versions, frozenset(props.split()), frozenset(beta.split())
    )


def _compliance(props: str, beta: str = "", versions: frozenset[str] = BOTH) -> DerivedType:
    return DerivedType(
        "deviceCompliancePolicy", versions, frozenset(props.split()), frozenset(beta.split())
    )


TYPES: dict[str, DerivedType] = {
    "windows10GeneralConfiguration": _config(
        "passwordRequired passwordMinimumLength cameraBlocked storageBlockRemovableStorage"
    ),
    "windows10EndpointProtectionConfiguration": _config(
        "firewallBlockStatefulFTP bitLockerEncryptDevice "
        "defenderSecurityCenterBlockExploitProtectionOverride"
    ),
    "windowsUpdateForBusinessConfiguration": _config(
        "qualityUpdatesDeferralPeriodInDays featureUpdatesDeferralPeriodInDays automaticUpdateMode"
    ),
    "windows10CustomConfiguration": _config("omaSettings"),
    "windowsWifiConfiguration": _config(
        "ssid networkName connectAutomatically wifiSecurityType", versions=BETA_ONLY
    ),
    "windows10VpnConfiguration": _config("connectionType enableSplitTunneling", versions=BETA_ONLY),
    "windows10PkcsCertificateProfile": _config(
        "certificateStore certificateTemplateName certificationAuthority "
        "certificationAuthorityName",
        versions=BETA_ONLY,
    ),
    "windows81TrustedRootCertificate": _config(
        "trustedRootCertificate certFileName destinationStore", versions=BETA_ONLY
    ),
    "windowsDomainJoinConfiguration": _config(
        "activeDirectoryDomainName computerNameStaticPrefix organizationalUnit",
        versions=BETA_ONLY,
    ),
    "windowsKioskConfiguration": _config(
        "kioskProfiles kioskBrowserDefaultUrl edgeKioskEnablePublicBrowsing", versions=BETA_ONLY
    ),
    "iosGeneralDeviceConfiguration": _config(
        "passcodeRequired passcodeMinimumLength iCloudBlockBackup"
    ),
    "iosDeviceFeaturesConfiguration": _config("lockScreenFootnote homeScreenDockIcons"),
    "iosCustomConfiguration": _config("payloadName payloadFileName payload"),
    # airDropBlocked is declared on the beta type only.
    "macOSGeneralDeviceConfiguration": _config(
        "passwordRequired passwordMinimumLength", beta="airDropBlocked"
    ),
    "macOSEndpointProtectionConfiguration": _config(
        "fileVaultEnabled firewallEnabled gatekeeperAllowedAppSource", versions=BETA_ONLY
    ),
    "androidWorkProfileGeneralDeviceConfiguration": _config(
        "workProfileBlockCamera workProfilePasswordRequiredType"
    ),
    "androidDeviceOwnerGeneralDeviceConfiguration": _config(
        "screenCaptureBlocked factoryResetBlocked", versions=BETA_ONLY
    ),
    # defenderEnabled is declared on the beta type only.
    "windows10CompliancePolicy": _compliance(
        "passwordRequired osMinimumVersion bitLockerEnabled secureBootEnabled",
        beta="defenderEnabled",
    ),
    "iosCompliancePolicy": _compliance(
        "passcodeRequired osMinimumVersion securityBlockJailbrokenDevices"
    ),
    "macOSCompliancePolicy": _compliance(
        "osMinimumVersion storageRequireEncryption firewallEnabled"
    ),
    "androidWorkProfileCompliancePolicy": _compliance(
        "passwordRequired securityBlockJailbrokenDevices osMinimumVersion"
    ),
    "androidDeviceOwnerCompliancePolicy": _compliance(
        "passwordRequired storageRequireEncryption", versions=BETA_ONLY
    ),
}

# deviceManagementConfigurationPolicy is beta-only altogether.
CONFIGURATION_POLICY_PROPERTIES = frozenset(
    {
        "id", "name", "description", "platforms", "technologies", "createdDateTime",
        "lastModifiedDateTime", "settingCount", "creationSource", "isAssigned",
        "roleScopeTagIds", "templateReference", "priorityMetaData",
        "disableEntraGroupPolicyAssignment",
    }
)  # fmt: skip
# Navigation properties: never part of the entity, sent along only in a deep create.
NAVIGATION = {
    "deviceConfiguration": frozenset({"assignments"}),
    "deviceCompliancePolicy": frozenset({"assignments", "scheduledActionsForRule"}),
    "deviceManagementConfigurationPolicy": frozenset({"assignments", "settings"}),
}
# deviceComplianceScheduledActionForRule and deviceComplianceActionItem.
RULE_PROPERTIES = frozenset({"id", "ruleName"})
ACTION_PROPERTIES = frozenset(
    {"id", "actionType", "gracePeriodHours", "notificationTemplateId", "notificationMessageCCList"}
)


def type_name(odata_type: Any) -> str:
    text = odata_type if isinstance(odata_type, str) else ""
    return text.removeprefix("#microsoft.graph.")


def derived(odata_type: Any, entity: str, version: str) -> DerivedType | None:
    """The derived type named by `@odata.type`, if this version has it under `entity`."""
    found = TYPES.get(type_name(odata_type))
    if found is None or found.entity != entity or version not in found.versions:
        return None
    return found


def properties(entity: str, odata_type: Any, version: str) -> frozenset[str] | None:
    """Every structural property of the type in `version` (None: no such type there)."""
    if entity == "deviceManagementConfigurationPolicy":
        return CONFIGURATION_POLICY_PROPERTIES if version == BETA else None
    found = derived(odata_type, entity, version)
    if found is None:
        return None
    own = found.properties | (found.beta_properties if version == BETA else frozenset())
    return BASE_PROPERTIES[entity][version] | own


def as_served(entity: str, policy: dict[str, Any], version: str) -> dict[str, Any] | None:
    """The policy as `version` shows it: None if the version has no such type, else only
    the properties that version declares (Graph serialises nothing else)."""
    known = properties(entity, policy.get("@odata.type"), version)
    if known is None:
        return None
    return {k: v for k, v in policy.items() if k in known or k == "@odata.type"}


def target_as_served(target: dict[str, Any], version: str) -> dict[str, Any]:
    if version == BETA:
        return target
    return {k: v for k, v in target.items() if k not in TARGET_FILTER_FIELDS}
