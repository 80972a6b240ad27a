"""The local stack behind `make dev`: Azurite, the local Entra/Graph, local.settings.json,
and the demo data (tenants, memberships). Dev only; the app never imports devhost."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devhost.azurite import start_azurite_process
from devhost.easyauth import EasyAuth
from localcloud.directory import Directory
from localcloud.seed import (
    API_AUDIENCE,
    API_CLIENT_ID,
    API_CLIENT_SECRET,
    AUTOMATION_CLIENT_ID,
    CONTOSO_TENANT_ID,
    OPERATOR_OID,
    TENANTS,
    VIEWER_OID,
)

if TYPE_CHECKING:
    from localcloud import LocalCloud
    from shared.persistence.clients import StorageClients

log = logging.getLogger("devhost.dev")

AZURITE_PORTS = (10000, 10001, 10002)  # what UseDevelopmentStorage=true names
LOCALCLOUD_PORT = 7443
STATE_FILE = "localcloud.json"
# The automation client's service principal in its home tenant (the app-only caller).
AUTOMATION_OID = Directory.service_principal_oid(CONTOSO_TENANT_ID, AUTOMATION_CLIENT_ID)
# The demo users the local sign-in offers (see seed_demo for what each may do).
DEMO_USERS = ("operator", "viewer", "outsider")
# Trust App Service Authentication's principal header: only where the local App Service
# Authentication runs in front of the app and strips client-sent copies, as Azure does.
TRUST_PRINCIPAL_SETTING = "AUTH_TRUST_APP_SERVICE_PRINCIPAL"
# What App Service sets when its Authentication is on; the app trusts the header only then.
AUTH_ENABLED_SETTING = "WEBSITE_AUTH_ENABLED"


def graph_secret_setting(tenant_name: str) -> str:
    """The app setting holding a demo tenant's Graph app secret (as in Azure: by name)."""
    return f"LOCAL_GRAPH_SECRET_{tenant_name.upper()}"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def start_dev_azurite(root: Path) -> subprocess.Popen[bytes] | None:
    """Azurite on its default ports, data in .azurite/; None if one already listens."""
    if all(port_open(p) for p in AZURITE_PORTS):
        print("Azurite already listening on 10000-10002: using it.", flush=True)
        return None
    data = root / ".azurite"
    data.mkdir(exist_ok=True)
    try:
        process, _ = start_azurite_process(root, AZURITE_PORTS, location=data)
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    return process


def local_values(cloud_base_url: str, ca_path: Path) -> dict[str, str]:
    """The settings a local run needs beyond the sample's defaults (fake, public secrets)."""
    values = {
        "GRAPH_AUTHORITY_BASE_URL": cloud_base_url,
        "GRAPH_BASE_URL": cloud_base_url,
        "GRAPH_CA_BUNDLE": str(ca_path.resolve()),
        "API_AUDIENCE": API_AUDIENCE,
        "API_CLIENT_ID": API_CLIENT_ID,
        "API_CLIENT_SECRET": API_CLIENT_SECRET,
        "AUTH_TRUSTED_TENANTS": ",".join(t.tenant_id for t in TENANTS),
    }
    for tenant in TENANTS:
        values[graph_secret_setting(tenant.name)] = tenant.apps[0].secret
    # Notifications: mail from the notifier mailbox of the operators' home tenant (Contoso
    # here) and Teams cards to the local Workflows sink.
    home = TENANTS[0]
    values.update(
        {
            "NOTIFY_MAIL_SENDER": f"intune-runs@{home.domain}",
            "NOTIFY_MAIL_TENANT_ID": home.tenant_id,
            "NOTIFY_MAIL_CLIENT_ID": home.apps[0].client_id,
            "NOTIFY_MAIL_CLIENT_SECRET": home.apps[0].secret,
            "NOTIFY_TEAMS_WEBHOOK_URL": f"{cloud_base_url}/teams/webhooks/intune-runs",
        }
    )
    return values


def demo_easy_auth(cloud: LocalCloud) -> EasyAuth:
    """App Service Authentication for the local host, configured as infra/app/auth.bicep
    configures it: a demo user signs in to the API's app registration (the principal is
    built from that ID token) and the token store keeps a user token for our API."""
    return EasyAuth(
        lambda user: cloud.issue_id_token(user, client_id=API_CLIENT_ID),
        DEMO_USERS,
        issue_access_token=lambda user: cloud.issue_user_token(user, audience=API_AUDIENCE),
    )


def write_local_settings(root: Path, values: dict[str, str]) -> Path:
    """local.settings.json from the sample when missing; when present, only settings that
    are missing or empty are filled in (a developer's own values win)."""
    path = root / "local.settings.json"
    fresh = not path.exists()
    if fresh:
        data: dict[str, Any] = json.loads(
            (root / "local.settings.sample.json").read_text(encoding="utf-8")
        )
    else:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    current = data.setdefault("Values", {})
    changed = fresh
    for name, value in values.items():
        if fresh or not str(current.get(name) or "").strip():
            current[name] = value
            changed = True
    if changed:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def seed_demo(storage: StorageClients) -> None:
    """Contoso and Fabrikam with their Graph apps; operator (operator on both), viewer
    (readonly on Contoso), outsider (nothing), the automation app (operator on both).
    Creates the tables, queues and containers first, as infra/ does in Azure."""
    from shared.auth.membership import Membership, MembershipStore, Role
    from shared.composition.provisioning import provision
    from shared.config import MEMBER_TENANTS_TABLE, TENANT_MEMBERS_TABLE, TENANTS_TABLE
    from shared.tenants import GraphAppReference, ManagedTenant, TenantStore

    provision(storage)
    tenants = TenantStore(storage.table(TENANTS_TABLE))
    members = MembershipStore(
        storage.table(TENANT_MEMBERS_TABLE), storage.table(MEMBER_TENANTS_TABLE), ttl=0
    )
    grants = {
        (OPERATOR_OID, "user"): {t.tenant_id: Role.OPERATOR for t in TENANTS},
        (VIEWER_OID, "user"): {CONTOSO_TENANT_ID: Role.READONLY},
        (AUTOMATION_OID, "app"): {t.tenant_id: Role.OPERATOR for t in TENANTS},
    }
    for tenant in TENANTS:
        app = GraphAppReference(
            client_id=tenant.apps[0].client_id,
            credential_setting=graph_secret_setting(tenant.name),
        )
        tenants.upsert(ManagedTenant(tenant.tenant_id, tenant.name, graph_app=app))
        for (oid, kind), roles in grants.items():
            if tenant.tenant_id in roles:
                members.grant(
                    Membership(tenant.tenant_id, oid, roles[tenant.tenant_id], tenant.name, kind)
                )
