"""One frozen settings object, read from app settings (environment variables).

Names match the Function App's application settings and `local.settings.sample.json`.
Queue and table names are constants: trigger decorators need them at import time and
infra/ creates them by these names.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROOT = Path(__file__).resolve().parent.parent

RUNS_TABLE = "OperationRuns"
TENANTS_TABLE = "Tenants"
RUNS_QUEUE = "operation-runs"
RUNS_POISON_QUEUE = f"{RUNS_QUEUE}-poison"
# The connection (app setting name) the queue triggers use, as Functions names it.
STORAGE_CONNECTION = "AzureWebJobsStorage"
# What the run types produce, each partitioned by managed tenant id.
ENTRA_GROUPS_TABLE = "EntraGroups"
POLICY_INVENTORY_TABLE = "PolicyInventory"
BACKUP_SETS_TABLE = "BackupSets"
RESTORE_LEDGER_TABLE = "RestoreLedger"
# Payloads too large for a table property (blob names start with the tenant id).
POLICY_PAYLOADS_CONTAINER = "policy-payloads"
BACKUP_PAYLOADS_CONTAINER = "backup-payloads"
# Who may do what in which managed tenant (PK tenant id), and its mirror partitioned by
# member (PK member object id) so "my tenants" is one partition query.
TENANT_MEMBERS_TABLE = "TenantMembers"
MEMBER_TENANTS_TABLE = "MemberTenants"
# Initiator notifications (shared.notifications): in-app inbox (PK user object id), the
# exactly-once delivery ledger (PK run id), per-user channel preferences, and their queue.
NOTIFICATIONS_TABLE = "Notifications"
NOTIFICATION_DELIVERIES_TABLE = "NotificationDeliveries"
NOTIFICATION_PREFERENCES_TABLE = "NotificationPreferences"
NOTIFICATIONS_QUEUE = "notifications"
# The queue-health timer's last measurement per queue, for the monitoring page's banner.
QUEUE_HEALTH_TABLE = "QueueHealth"
# One overview summary row per managed tenant, all in one partition, so the all-tenants
# overview is one partition query (shared.runs.summaries, docs/adr/0009).
TENANT_SUMMARIES_TABLE = "TenantSummaries"


class StorageSettingsConflict(RuntimeError):
    """Code asked for the storage connection string where storage is reached by identity."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # Read through `storage_connection_string`, which refuses when identity is configured.
    storage_connection_string_setting: str = Field(
        default="UseDevelopmentStorage=true", alias="AzureWebJobsStorage"
    )
    run_lease_seconds: int = Field(default=600, ge=3)
    run_stale_queued_seconds: int = Field(default=3600, ge=10)
    # Dispatch recovery: a deduplicated start re-sends a queued run's message last sent
    # longer ago than this; the reaper re-sends past the second window, at most
    # RUN_MAX_REDISPATCHES times, then fails the run as dispatch_lost.
    run_redispatch_seconds: float = Field(default=10.0, ge=0.5)
    run_dispatch_lost_seconds: float = Field(default=60.0, ge=1)
    run_max_redispatches: int = Field(default=3, ge=0, le=20)
    # A Graph Retry-After postpones a run's next delivery by at most this.
    run_max_retry_after_seconds: float = Field(default=300.0, ge=1)
    run_progress_min_interval_seconds: float = Field(default=2.0, ge=0)
    auto_provision_storage: bool = False
    # Registers diagnostics.noop (tests and benchmarks only; off in production).
    enable_diagnostic_run_types: bool = False
    public_base_url: str = "http://localhost:7071"
    # Where Entra and Graph are: the public cloud by default, the local stand-in in dev.
    graph_authority_base_url: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com"
    # Dev/test only: trust this CA bundle (the local stand-in's) for Entra and Graph.
    graph_ca_bundle: str | None = None
    # Our API's app registration: the audience its bearer tokens carry (App ID URI; the
    # client id is accepted too) and the credential it uses for on-behalf-of.
    api_audience: str = ""
    api_client_id: str = ""
    api_client_secret: str = Field(default="", repr=False)
    # Comma-separated tenant ids whose sign-ins the API accepts ("*": any tenant).
    auth_trusted_tenants: str = ""
    # Trust App Service Authentication's X-MS-CLIENT-PRINCIPAL header. Only where App
    # Service (which strips client-sent copies) fronts the app; never locally by default.
    auth_trust_app_service_principal: bool = False
    # Set by App Service itself ("True") when its Authentication is on; not ours to set.
    website_auth_enabled: str = Field(default="", alias="WEBSITE_AUTH_ENABLED")
    # Browser origins (besides PUBLIC_BASE_URL's own) whose state-changing requests are
    # accepted: the portals CORS lists. Comma-separated `https://host[:port]`.
    allowed_origins: str = ""
    # How long a caller's memberships are served from memory before they are re-read.
    membership_cache_seconds: float = Field(default=30.0, ge=0)
    # A run event recomputes its tenant's overview summary this long after the first event
    # (later ones meanwhile share the recompute); 0 recomputes at once, in the caller.
    overview_refresh_delay_seconds: float = Field(default=2.0, ge=0)
    # Identity-based storage (Azure): when any of these is set, storage is reached with
    # DefaultAzureCredential (the app's managed identity) instead of the connection string.
    # The same names configure the Functions host's own AzureWebJobsStorage connection.
    storage_account_name: str = Field(default="", alias="AzureWebJobsStorage__accountName")
    storage_blob_service_uri: str = Field(default="", alias="AzureWebJobsStorage__blobServiceUri")
    storage_queue_service_uri: str = Field(default="", alias="AzureWebJobsStorage__queueServiceUri")
    storage_table_service_uri: str = Field(default="", alias="AzureWebJobsStorage__tableServiceUri")
    # A user-assigned identity's client id (system-assigned when empty).
    storage_client_id: str = Field(default="", alias="AzureWebJobsStorage__clientId")
    # Notifications: channels per event (comma-separated in_app,email,teams), overridable
    # per user. Email and Teams fire only when configured below.
    notify_queued_channels: str = "in_app"
    notify_completed_channels: str = "in_app,email,teams"
    # sendMail from this mailbox (UPN) in the operators' home tenant, with that tenant's
    # app registration (Mail.Send application permission, scoped by an access policy).
    notify_mail_sender: str = ""
    notify_mail_tenant_id: str = ""
    notify_mail_client_id: str = ""
    notify_mail_client_secret: str = Field(default="", repr=False)
    # A Teams Workflows webhook URL (it carries a signature: a secret, from Key Vault).
    notify_teams_webhook_url: str = Field(default="", repr=False)
    notify_max_attempts: int = Field(default=6, ge=1, le=20)
    # A delivery claim older than this is presumed dead (its worker crashed mid-send).
    notify_send_lease_seconds: int = Field(default=300, ge=5)
    notify_retry_base_seconds: float = Field(default=30.0, ge=0)
    # Retention: completed runs older than this are purged by the retention timer.
    run_retention_days: int = Field(default=90, ge=1)
    retention_max_runs_per_invocation: int = Field(default=2000, ge=1)
    # Telemetry: OpenTelemetry to Application Insights only when a connection string is set.
    applicationinsights_connection_string: str = Field(default="", repr=False)
    # "Authorization=AAD": ingestion with the managed identity (local auth off).
    applicationinsights_authentication_string: str = ""

    @property
    def managed_identity_client_id(self) -> str | None:
        """The app's user-assigned identity (system-assigned when None), for any service."""
        return self.storage_client_id or None

    @property
    def storage_uses_identity(self) -> bool:
        return any(
            value.strip()
            for value in (
                self.storage_account_name,
                self.storage_blob_service_uri,
                self.storage_queue_service_uri,
                self.storage_table_service_uri,
            )
        )

    @property
    def storage_connection_string(self) -> str:
        """`AzureWebJobsStorage`, only where no identity settings are present: in Azure there
        is none, and its default (`UseDevelopmentStorage=true`) would point at loopback."""
        if self.storage_uses_identity:
            raise StorageSettingsConflict(
                "identity-based storage is configured (AzureWebJobsStorage__*): "
                "the AzureWebJobsStorage connection string must not be used"
            )
        return self.storage_connection_string_setting

    @property
    def trust_app_service_principal(self) -> bool:
        """Fail closed: the header is trusted only if App Service says its Authentication
        is on (and so strips client-sent copies) *and* our setting asks for it."""
        platform_on = self.website_auth_enabled.strip().lower() == "true"
        return platform_on and self.auth_trust_app_service_principal

    @property
    def run_lease(self) -> timedelta:
        return timedelta(seconds=self.run_lease_seconds)

    @property
    def stale_queued_after(self) -> timedelta:
        return timedelta(seconds=self.run_stale_queued_seconds)

    @property
    def redispatch_after(self) -> timedelta:
        return timedelta(seconds=self.run_redispatch_seconds)

    @property
    def dispatch_lost_after(self) -> timedelta:
        return timedelta(seconds=self.run_dispatch_lost_seconds)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


@lru_cache(maxsize=1)
def _host_queues() -> dict[str, Any]:
    host = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    queues: dict[str, Any] = host.get("extensions", {}).get("queues", {})
    return queues


def max_dequeue_count() -> int:
    """host.json's queues.maxDequeueCount: the one place the last delivery is defined."""
    return int(_host_queues().get("maxDequeueCount", 5))


def queue_concurrency() -> int:
    """How many deliveries of one queue trigger an instance runs at once (host.json):
    batchSize + newBatchThreshold, the host's documented default threshold batchSize/2."""
    queues = _host_queues()
    batch = int(queues.get("batchSize", 16))
    return batch + int(queues.get("newBatchThreshold", batch // 2))
