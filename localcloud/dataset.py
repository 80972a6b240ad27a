"""Deterministic tenant contents that look like a real Intune tenant.

Same SEED and tenant -> byte-identical data, so tests can rely on counts and names.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.seed import SEED, Tenant

DEPARTMENTS = (
    "Finance", "HR", "Sales", "Marketing", "Engineering", "IT", "Legal", "Operations",
    "Support", "Research", "Procurement", "Facilities", "Executive", "Logistics",
)  # fmt: skip
DEVICE_KINDS = ("Laptops", "Desktops", "Kiosks", "Mobile Devices", "Tablets", "Shared PCs")
PLATFORMS = ("Windows", "macOS", "iOS", "Android")
RINGS = ("Pilot", "Ring0", "Ring1", "Ring2", "Broad", "Preview", "Canary")
REGIONS = ("EMEA", "AMER", "APAC", "UK", "DE", "FR", "US-East", "US-West", "NL", "JP")
ROLES = ("Intune-Admins", "Helpdesk-L1", "Helpdesk-L2", "Security-Readers", "Global-Readers")
LICENSES = ("M365-E3", "M365-E5", "EMS-E3", "Intune-P1", "Windows-E5")
FIXED_GROUPS = ("SG-Intune-Windows-Pilot", "Finance Laptops", "All Company Devices")

GROUP_TEMPLATES = (
    "SG-Intune-{platform}-{ring}",
    "{dept} {kind}",
    "SG-{region}-{dept}-Users",
    "DG-{platform}-{dept}-Devices",
    "M365-{dept}-{region}",
    "AAD-Role-{role}",
    "License-{license}-Assigned",
    "SG-Intune-{platform}-{dept}-{ring}",
    "{region} {dept} {kind}",
)

DEVICE_CONFIG_KINDS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("WIN", "windows10GeneralConfiguration", "Device Restrictions",
     {"passwordRequired": True, "passwordMinimumLength": 12, "cameraBlocked": False,
      "storageBlockRemovableStorage": True}),
    ("WIN", "windows10EndpointProtectionConfiguration", "Endpoint Protection",
     {"firewallBlockStatefulFTP": True, "bitLockerEncryptDevice": True,
      "defenderSecurityCenterBlockExploitProtectionOverride": True}),
    ("WIN", "windowsUpdateForBusinessConfiguration", "Update Ring",
     {"qualityUpdatesDeferralPeriodInDays": 7, "featureUpdatesDeferralPeriodInDays": 30,
      "automaticUpdateMode": "autoInstallAtMaintenanceTime"}),
    ("WIN", "windows10CustomConfiguration", "Custom OMA-URI",
     {"omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger",
                       "displayName": "Disable Consumer Features",
                       "omaUri": "./Device/Vendor/MSFT/Policy/Config/Experience/"
                                 "AllowWindowsConsumerFeatures", "value": 0}]}),
    ("WIN", "windowsWifiConfiguration", "Wi-Fi Corporate",
     {"ssid": "CORP-WLAN", "networkName": "CORP-WLAN", "connectAutomatically": True,
      "wifiSecurityType": "wpa2Enterprise"}),
    ("WIN", "windows10VpnConfiguration", "Always On VPN",
     {"connectionType": "ikEv2", "enableSplitTunneling": True}),
    ("WIN", "windows10PkcsCertificateProfile", "PKCS User Certificate",
     {"certificateStore": "user", "certificateTemplateName": "CorpUser",
      "certificationAuthority": "ca01.corp.local", "certificationAuthorityName": "Corp CA"}),
    ("WIN", "windows81TrustedRootCertificate", "Trusted Root CA",
     {"trustedRootCertificate": "MIIBszCCAVmgAwIBAgIUQ29ycFJvb3Q=", "certFileName": "root.cer",
      "destinationStore": "computerCertStoreRoot"}),
    ("WIN", "windowsDomainJoinConfiguration", "Hybrid Domain Join",
     {"activeDirectoryDomainName": "corp.local", "computerNameStaticPrefix": "CORP-",
      "organizationalUnit": "OU=Autopilot,DC=corp,DC=local"}),
    ("WIN", "windowsKioskConfiguration", "Kiosk Browser",
     {"kioskBrowserDefaultUrl": "https://intranet.{tenant}.example",
      "edgeKioskEnablePublicBrowsing": False, "kioskProfiles": []}),
    ("iOS", "iosGeneralDeviceConfiguration", "Device Restrictions",
     {"passcodeRequired": True, "passcodeMinimumLength": 6, "iCloudBlockBackup": True}),
    ("iOS", "iosDeviceFeaturesConfiguration", "Device Features",
     {"lockScreenFootnote": "Property of {tenant}", "homeScreenDockIcons": []}),
    ("iOS", "iosCustomConfiguration", "Custom Profile",
     {"payloadName": "Corporate Certificates", "payloadFileName": "corp.mobileconfig"}),
    ("MAC", "macOSGeneralDeviceConfiguration", "Device Restrictions",
     {"passwordRequired": True, "passwordMinimumLength": 10, "airDropBlocked": True}),
    ("MAC", "macOSEndpointProtectionConfiguration", "FileVault and Firewall",
     {"fileVaultEnabled": True, "firewallEnabled": True, "gatekeeperAllowedAppSource":
      "macAppStoreAndIdentifiedDevelopers"}),
    ("AND", "androidWorkProfileGeneralDeviceConfiguration", "Work Profile Restrictions",
     {"workProfileBlockCamera": False, "workProfilePasswordRequiredType": "numericComplex"}),
    ("AND", "androidDeviceOwnerGeneralDeviceConfiguration", "Fully Managed Restrictions",
     {"screenCaptureBlocked": True, "factoryResetBlocked": True}),
)  # fmt: skip

COMPLIANCE_KINDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("WIN", "windows10CompliancePolicy",
     {"passwordRequired": True, "osMinimumVersion": "10.0.19045", "bitLockerEnabled": True,
      "secureBootEnabled": True, "defenderEnabled": True}),
    ("iOS", "iosCompliancePolicy",
     {"passcodeRequired": True, "osMinimumVersion": "17.0",
      "securityBlockJailbrokenDevices": True}),
    ("MAC", "macOSCompliancePolicy",
     {"osMinimumVersion": "14.0", "storageRequireEncryption": True, "firewallEnabled": True}),
    ("AND-WP", "androidWorkProfileCompliancePolicy",
     {"passwordRequired": True, "securityBlockJailbrokenDevices": True,
      "osMinimumVersion": "12.0"}),
    ("AND-DO", "androidDeviceOwnerCompliancePolicy",
     {"passwordRequired": True, "storageRequireEncryption": True}),
)  # fmt: skip
COMPLIANCE_PURPOSES = ("Baseline", "Strict", "BYOD", "Executives", "Kiosk", "Frontline")
CONFIG_PURPOSES = ("Baseline", "Corporate", "Pilot", "Kiosk", "BYOD", "Executives", "Lab")

SETTINGS_CATALOG: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("WIN", "windows10", "Defender Antivirus",
     ("device_vendor_msft_policy_config_defender_allowrealtimemonitoring",
      "device_vendor_msft_policy_config_defender_allowcloudprotection",
      "device_vendor_msft_policy_config_defender_puaprotection")),
    ("WIN", "windows10", "Attack Surface Reduction",
     ("device_vendor_msft_policy_config_defender_attacksurfacereductionrules",)),
    ("WIN", "windows10", "Microsoft Edge",
     ("device_vendor_msft_policy_config_microsoft_edge_smartscreenenabled",
      "device_vendor_msft_policy_config_microsoft_edge_passwordmanagerenabled")),
    ("WIN", "windows10", "OneDrive Known Folder Move",
     ("device_vendor_msft_policy_config_onedrivengscv2~policy~onedrivengsc_kfmoptinnowizard",
      "device_vendor_msft_policy_config_onedrivengscv2~policy~onedrivengsc_filesondemandenabled")),
    ("WIN", "windows10", "Windows Hello for Business",
     ("device_vendor_msft_passportforwork_{tenantid}_policies_usepassportforwork",
      "device_vendor_msft_passportforwork_{tenantid}_policies_pincomplexity_minimumpinlength")),
    ("WIN", "windows10", "BitLocker",
     ("device_vendor_msft_bitlocker_requiredeviceencryption",
      "device_vendor_msft_bitlocker_encryptionmethodbydrivetype")),
    ("MAC", "macOS", "Software Update",
     ("com.apple.softwareupdate_automaticallyinstallmacosupdates",
      "com.apple.softwareupdate_criticalupdateinstall")),
    ("MAC", "macOS", "Login Window",
     ("com.apple.loginwindow_disableconsoleaccess", "com.apple.loginwindow_showfullname")),
    ("iOS", "iOS", "Declarative Passcode",
     ("com.apple.configuration.passcode.settings_requirepasscode",)),
    # More settings than one page of /settings (25): a list may cut them short.
    ("WIN", "windows10", "Security Baseline",
     tuple(f"device_vendor_msft_policy_config_baseline_setting{n:02d}" for n in range(32))),
)  # fmt: skip

TARGET_GROUP = "#microsoft.graph.groupAssignmentTarget"
TARGET_EXCLUDE = "#microsoft.graph.exclusionGroupAssignmentTarget"
TARGET_ALL_DEVICES = "#microsoft.graph.allDevicesAssignmentTarget"
TARGET_ALL_USERS = "#microsoft.graph.allLicensedUsersAssignmentTarget"

EPOCH = datetime(2023, 1, 9, 8, 0, tzinfo=UTC)


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stamp(rng: random.Random, after: datetime = EPOCH, days: int = 700) -> str:
    moment = after + timedelta(seconds=rng.randrange(days * 86400))
    return moment.isoformat().replace("+00:00", "Z")


def _group_name(rng: random.Random) -> str:
    template = rng.choice(GROUP_TEMPLATES)
    return template.format(
        platform=rng.choice(PLATFORMS),
        ring=rng.choice(RINGS),
        dept=rng.choice(DEPARTMENTS),
        kind=rng.choice(DEVICE_KINDS),
        region=rng.choice(REGIONS),
        role=rng.choice(ROLES),
        license=rng.choice(LICENSES),
    )


def make_group(rng: random.Random, name: str, domain: str) -> dict[str, Any]:
    unified = name.startswith("M365-")
    dynamic = name.startswith("DG-")
    nickname = "".join(ch for ch in name if ch.isalnum() or ch in "-_.")[:64]
    group: dict[str, Any] = {
        "id": guid(rng),
        "displayName": name,
        "description": f"{name} ({'dynamic' if dynamic else 'assigned'} membership)",
        "mailNickname": nickname,
        "mail": f"{nickname.lower()}@{domain}" if unified else None,
        "mailEnabled": unified,
        "securityEnabled": not unified,
        "groupTypes": ["Unified"] if unified else (["DynamicMembership"] if dynamic else []),
        "membershipRule": None,
        "membershipRuleProcessingState": None,
        "visibility": "Private" if unified else None,
        "createdDateTime": stamp(rng),
        "renewedDateTime": None,
        "securityIdentifier": f"S-1-12-1-{rng.getrandbits(31)}-{rng.getrandbits(31)}",
        "onPremisesSyncEnabled": None,
        "isAssignableToRole": name.startswith("AAD-Role-") or None,
    }
    if dynamic:
        os_name = name.split("-")[1]
        group["membershipRule"] = f'(device.deviceOSType -eq "{os_name}")'
        group["membershipRuleProcessingState"] = "On"
    group["renewedDateTime"] = group["createdDateTime"]
    return group


def make_groups(rng: random.Random, tenant: Tenant) -> list[dict[str, Any]]:
    names: list[str] = list(FIXED_GROUPS)
    seen = {n.lower() for n in names}
    while len(names) < tenant.groups:
        name = _group_name(rng)
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return [make_group(rng, name, tenant.domain) for name in names]


def _assignments(
    rng: random.Random, policy_id: str, groups: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    roll = rng.random()
    if roll < 0.1:
        return []
    if roll < 0.2:
        targets.append({"@odata.type": TARGET_ALL_DEVICES})
    elif roll < 0.27:
        targets.append({"@odata.type": TARGET_ALL_USERS})
    for group in rng.sample(groups, rng.randint(1, 3)):
        targets.append({"@odata.type": TARGET_GROUP, "groupId": group["id"]})
    if rng.random() < 0.25:
        targets.append({"@odata.type": TARGET_EXCLUDE, "groupId": rng.choice(groups)["id"]})
    return [assignment_for(policy_id, target) for target in targets]


def assignment_for(policy_id: str, target: dict[str, Any]) -> dict[str, Any]:
    target = {
        "deviceAndAppManagementAssignmentFilterId": None,
        "deviceAndAppManagementAssignmentFilterType": "none",
        **target,
    }
    suffix = target.get("groupId") or target["@odata.type"].rsplit(".", 1)[-1]
    return {"id": f"{policy_id}_{suffix}", "target": target}


def _policy_base(rng: random.Random) -> dict[str, Any]:
    created = stamp(rng)
    modified = stamp(rng, after=datetime.fromisoformat(created.replace("Z", "+00:00")), days=200)
    return {
        "id": guid(rng),
        "createdDateTime": created,
        "lastModifiedDateTime": modified,
        "roleScopeTagIds": ["0"],
    }


def _unique(
    rng: random.Random, make: Any, count: int, kinds: tuple[Any, ...] = ()
) -> list[tuple[str, Any]]:
    """`count` distinct (name, kind); the first ones go through `kinds` in order, so a
    tenant big enough holds every kind at least once."""
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for attempt in range(count * 50):  # bounded: a too-small name space must fail, not hang
        if len(out) == count:
            break
        name, extra = make(rng, kinds[attempt] if attempt < len(kinds) else None)
        if name not in seen:
            seen.add(name)
            out.append((name, extra))
    if len(out) < count:
        raise ValueError(f"cannot make {count} distinct names")
    return out


def make_device_configurations(rng: random.Random, tenant: Tenant) -> list[dict[str, Any]]:
    def make(r: random.Random, first: Any) -> tuple[str, Any]:
        kind = first or r.choice(DEVICE_CONFIG_KINDS)
        return f"{kind[0]} - {r.choice(CONFIG_PURPOSES)} - {kind[2]}", kind

    policies = []
    chosen = _unique(rng, make, tenant.device_configurations, DEVICE_CONFIG_KINDS)
    for name, (_, odata, _, settings) in chosen:
        policy = _policy_base(rng)
        policy.update(
            {
                "@odata.type": f"#microsoft.graph.{odata}",
                "displayName": name,
                "description": f"{name} for {tenant.name}",
                "version": rng.randint(1, 9),
                "supportsScopeTags": True,
            }
        )
        policy.update(_fill(settings, tenant))
        policies.append(policy)
    return policies


def make_compliance_policies(rng: random.Random, tenant: Tenant) -> list[dict[str, Any]]:
    def make(r: random.Random, first: Any) -> tuple[str, Any]:
        kind = first or r.choice(COMPLIANCE_KINDS)
        return f"{kind[0]} - Compliance - {r.choice(COMPLIANCE_PURPOSES)}", kind

    policies = []
    chosen = _unique(rng, make, tenant.compliance_policies, COMPLIANCE_KINDS)
    for name, (_, odata, settings) in chosen:
        policy = _policy_base(rng)
        policy.update(
            {
                "@odata.type": f"#microsoft.graph.{odata}",
                "displayName": name,
                "description": f"{name} for {tenant.name}",
                "version": rng.randint(1, 5),
            }
        )
        policy.update(settings)
        policies.append(policy)
    return policies


def make_configuration_policies(
    rng: random.Random, tenant: Tenant
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    def make(r: random.Random, first: Any) -> tuple[str, Any]:
        kind = first or r.choice(SETTINGS_CATALOG)
        return f"{kind[0]} - SC - {kind[2]} - {r.choice(CONFIG_PURPOSES)}", kind

    out = []
    chosen = _unique(rng, make, tenant.configuration_policies, SETTINGS_CATALOG)
    for name, (_, platform, _, definitions) in chosen:
        policy = _policy_base(rng)
        settings = [setting_instance(rng, i, d) for i, d in enumerate(definitions)]
        policy.update(
            {
                "name": name,
                "description": f"{name} for {tenant.name}",
                "platforms": platform,
                "technologies": "mdm",
                "settingCount": len(settings),
                "creationSource": None,
                "isAssigned": False,
                "templateReference": {
                    "templateId": "",
                    "templateFamily": "none",
                    "templateDisplayName": None,
                    "templateDisplayVersion": None,
                },
            }
        )
        out.append((policy, settings))
    return out


def setting_instance(rng: random.Random, index: int, definition_id: str) -> dict[str, Any]:
    return {
        "id": str(index),
        "settingInstance": {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
            "settingDefinitionId": definition_id,
            "settingInstanceTemplateReference": None,
            "choiceSettingValue": {
                "settingValueTemplateReference": None,
                "value": f"{definition_id}_{rng.choice((0, 1, 1, 2))}",
                "children": [],
            },
        },
    }


def _fill(settings: dict[str, Any], tenant: Tenant) -> dict[str, Any]:
    return {
        k: v.format(tenant=tenant.name) if isinstance(v, str) else v for k, v in settings.items()
    }


# Assignment filters (beta /deviceManagement/assignmentFilters): (platform, name, rule).
ASSIGNMENT_FILTERS = (
    ("windows10AndLater", "Corporate Windows devices", '(device.deviceOwnership -eq "Corporate")'),
    ("windows10AndLater", "Surface hardware", '(device.manufacturer -eq "Microsoft Corporation")'),
    ("iOS", "iPads only", '(device.model -startsWith "iPad")'),
    ("macOS", "Apple silicon Macs", '(device.model -contains "M1")'),
    ("androidForWork", "Samsung work profiles", '(device.manufacturer -eq "samsung")'),
)
# deviceComplianceActionItem.actionType values a rule can carry besides its one block.
FOLLOW_UP_ACTIONS = ("notification", "retire", "remoteLock", "pushNotification")


def make_assignment_filters(rng: random.Random, tenant: Tenant) -> list[dict[str, Any]]:
    return [
        {
            "id": guid(rng),
            "displayName": f"{name} ({tenant.name})",
            "description": "",
            "platform": platform,
            "rule": rule,
            "assignmentFilterManagementType": "devices",
            "roleScopeTags": ["0"],
        }
        for platform, name, rule in ASSIGNMENT_FILTERS
    ]


def apply_filters(
    rng: random.Random, assignments: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> None:
    """Put a filter on some targets. Never on an excluded group: Intune does not filter
    exclusions ("Use filters when assigning your apps, policies, and profiles")."""
    for assignment in assignments:
        target = assignment["target"]
        if target["@odata.type"] != TARGET_EXCLUDE and rng.random() < 0.35:
            target["deviceAndAppManagementAssignmentFilterId"] = rng.choice(filters)["id"]
            target["deviceAndAppManagementAssignmentFilterType"] = rng.choice(
                ("include", "exclude")
            )


def action_item(
    rng: random.Random, action_type: str, grace_hours: int, template: str = ""
) -> dict[str, Any]:
    return {
        "id": guid(rng),
        "actionType": action_type,
        "gracePeriodHours": grace_hours,
        "notificationTemplateId": template,
        "notificationMessageCCList": [],
    }


def make_scheduled_actions(rng: random.Random) -> list[dict[str, Any]]:
    """One rule with exactly one block action (what Graph requires on create), rarely the
    default "block at once": grace periods, notifications and retire actions."""
    actions = [action_item(rng, "block", rng.choice((0, 12, 24, 72, 168)))]
    for action_type in rng.sample(FOLLOW_UP_ACTIONS, rng.randint(0, 2)):
        template = guid(rng) if action_type == "notification" else ""
        actions.append(action_item(rng, action_type, rng.choice((0, 24, 720, 2160)), template))
    return [
        {"id": guid(rng), "ruleName": "PasswordRequired", "scheduledActionConfigurations": actions}
    ]


class TenantDataset:
    """The generated contents of one tenant (plain dicts in Graph's JSON shape)."""

    def __init__(self, tenant: Tenant, seed: str = SEED) -> None:
        rng = random.Random(f"{seed}:{tenant.tenant_id}")  # noqa: S311 - test data, not crypto
        self.groups = make_groups(rng, tenant)
        self.device_configurations = make_device_configurations(rng, tenant)
        self.compliance_policies = make_compliance_policies(rng, tenant)
        self.configuration_policies = make_configuration_policies(rng, tenant)
        self.assignments: dict[str, list[dict[str, Any]]] = {}
        policies = [
            *self.device_configurations,
            *self.compliance_policies,
            *(p for p, _ in self.configuration_policies),
        ]
        for policy in policies:
            self.assignments[policy["id"]] = _assignments(rng, policy["id"], self.groups)
        for policy, _ in self.configuration_policies:
            policy["isAssigned"] = bool(self.assignments[policy["id"]])
        # Drawn from their own generator, so the policies and assignments above stay as
        # they were before filters and actions were modelled.
        extra = random.Random(f"{seed}:{tenant.tenant_id}:fidelity")  # noqa: S311 - test data
        self.assignment_filters = make_assignment_filters(extra, tenant)
        for policy in policies:
            apply_filters(extra, self.assignments[policy["id"]], self.assignment_filters)
        self.scheduled_actions = {
            policy["id"]: make_scheduled_actions(extra) for policy in self.compliance_policies
        }
