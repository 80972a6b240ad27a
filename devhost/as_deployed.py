"""The app settings infra/ deploys, made runnable on this machine.

`infra/main.bicep`'s `appSettings` is the source: every name it sets, and every literal
value as written. Values that are expressions (resource outputs, parameters, Key Vault
references) get what the platform would resolve them to here: the storage service URIs
point at Azurite (HTTPS, bearer tokens), Key Vault references become the local secrets,
parameters take the local Entra's demo values. The one deliberate substitution of a
literal: Entra and Graph are the local stand-in (`LOCAL_STAND_INS`). App Service's own
environment is added as the platform adds it: the managed-identity endpoint, and
WEBSITE_AUTH_ENABLED for App Service Authentication in front.

There is no `AzureWebJobsStorage` in the result, as there is none in Azure: storage is
reached through the managed identity only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devhost.localstack import local_values
from localcloud.seed import API_CLIENT_SECRET, CONTOSO_TENANT_ID

ROOT = Path(__file__).resolve().parent.parent
MAIN_BICEP = ROOT / "infra" / "main.bicep"
AZURITE_ACCOUNT = "devstoreaccount1"

# Literal values of main.bicep replaced here, and why: the public cloud is not reachable.
LOCAL_STAND_INS = frozenset({"GRAPH_AUTHORITY_BASE_URL", "GRAPH_BASE_URL"})
# Never in the deployed configuration: a test fails if it appears.
FORBIDDEN = frozenset({"AzureWebJobsStorage"})

_SETTING = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$")
_LITERAL = re.compile(r"^'([^'$]*)'$")


class DeployedSettingsError(ValueError):
    """main.bicep sets something this module cannot resolve: say so, never guess."""


@dataclass(frozen=True)
class BicepSetting:
    name: str
    expression: str  # as written in main.bicep

    @property
    def literal(self) -> str | None:
        match = _LITERAL.match(self.expression)
        return match.group(1) if match else None


def bicep_app_settings(path: Path = MAIN_BICEP) -> list[BicepSetting]:
    """The `var appSettings = { ... }` object of main.bicep, one setting per line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("var appSettings = {"))
    except StopIteration:
        raise DeployedSettingsError(f"{path.name}: no `var appSettings = {{`") from None
    found: list[BicepSetting] = []
    for line in lines[start + 1 :]:
        if line.startswith("}"):
            return found
        if line.strip().startswith("//"):
            continue
        match = _SETTING.match(line)
        if match:
            found.append(BicepSetting(match.group(1), match.group(2)))
    raise DeployedSettingsError(f"{path.name}: appSettings is not closed")


@dataclass(frozen=True)
class LocalPlatform:
    """What stands in for Azure here."""

    cloud_base_url: str
    ca_path: Path
    blob_uri: str
    queue_uri: str
    table_uri: str
    public_base_url: str
    identity: Mapping[str, str]  # IDENTITY_ENDPOINT, IDENTITY_HEADER


def resolved_values(platform: LocalPlatform) -> dict[str, str]:
    """What the platform resolves main.bicep's expressions to, here."""
    demo = local_values(platform.cloud_base_url, platform.ca_path)
    return {
        # storage.outputs.*: the account's service endpoints.
        "AzureWebJobsStorage__accountName": AZURITE_ACCOUNT,
        "AzureWebJobsStorage__blobServiceUri": platform.blob_uri,
        "AzureWebJobsStorage__queueServiceUri": platform.queue_uri,
        "AzureWebJobsStorage__tableServiceUri": platform.table_uri,
        # No Application Insights here: telemetry stays off (the app's own switch).
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
        "RUN_RETENTION_DAYS": "90",  # the parameter's default
        "PUBLIC_BASE_URL": platform.public_base_url,
        # Parameters: the local Entra's app registration and the operators' tenant
        # (authTrustedTenants defaults to the subscription's tenant).
        "API_AUDIENCE": demo["API_AUDIENCE"],
        "API_CLIENT_ID": demo["API_CLIENT_ID"],
        "AUTH_TRUSTED_TENANTS": CONTOSO_TENANT_ID,
        # portalOrigins defaults to none: only the app's own origin may write from a browser.
        "ALLOWED_ORIGINS": "",
        "NOTIFY_QUEUED_CHANNELS": "in_app",
        "NOTIFY_COMPLETED_CHANNELS": "in_app,email,teams",
        "NOTIFY_MAIL_SENDER": demo["NOTIFY_MAIL_SENDER"],
        "NOTIFY_MAIL_TENANT_ID": demo["NOTIFY_MAIL_TENANT_ID"],
        "NOTIFY_MAIL_CLIENT_ID": demo["NOTIFY_MAIL_CLIENT_ID"],
        # Key Vault references, as App Service resolves them.
        "API_CLIENT_SECRET": API_CLIENT_SECRET,
        "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET": API_CLIENT_SECRET,
        "NOTIFY_MAIL_CLIENT_SECRET": demo["NOTIFY_MAIL_CLIENT_SECRET"],
        "NOTIFY_TEAMS_WEBHOOK_URL": demo["NOTIFY_TEAMS_WEBHOOK_URL"],
    }


def deployed_settings(platform: LocalPlatform, main: Path = MAIN_BICEP) -> dict[str, str]:
    """Every app setting main.bicep gives the app, resolved here, plus App Service's own
    environment. Raises DeployedSettingsError for a Bicep setting it cannot resolve."""
    resolved = resolved_values(platform)
    demo = local_values(platform.cloud_base_url, platform.ca_path)
    settings: dict[str, str] = {}
    for setting in bicep_app_settings(main):
        if setting.name in FORBIDDEN:
            raise DeployedSettingsError(f"main.bicep sets {setting.name}")
        if setting.name in LOCAL_STAND_INS:
            settings[setting.name] = demo[setting.name]
        elif setting.literal is not None:
            settings[setting.name] = setting.literal
        elif setting.name in resolved:
            settings[setting.name] = resolved[setting.name]
        else:
            raise DeployedSettingsError(
                f"main.bicep sets {setting.name} = {setting.expression}: "
                "say in devhost/as_deployed.py what it resolves to locally"
            )
    # graphCredentials: one Key Vault reference per managed tenant's Graph credential.
    settings.update({k: v for k, v in demo.items() if k.startswith("LOCAL_GRAPH_SECRET_")})
    # The local CA, which Azure's trust store stands in for: Entra/Graph (msal, httpx) and
    # storage (the SDKs' requests transport) over TLS to loopback.
    settings["GRAPH_CA_BUNDLE"] = demo["GRAPH_CA_BUNDLE"]
    settings["REQUESTS_CA_BUNDLE"] = str(platform.ca_path.resolve())
    # App Service's environment: the managed identity, and Authentication in front.
    settings.update(platform.identity)
    settings["WEBSITE_AUTH_ENABLED"] = "True"
    return settings
