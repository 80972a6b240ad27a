"""The read side of the composition root: identity, membership, the run *reads* and the
run-type catalogue.

Deliberately free of shared.composition.services (which builds the run-type registry,
whose handlers call Graph): the read routes import only this and the root, so an
import-linter contract can prove that no read route can reach Graph. The catalogue is
the run types' declarations (shared.run_types.declarations), not the registry. Writes
(start, cancel) use the full side's RunService, which carries the registry and the
events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from shared.api.access import Access
from shared.api.csrf import WriteGuard
from shared.api.monitoring import Monitor
from shared.auth.authenticate import Authenticator
from shared.auth.membership import MembershipStore
from shared.auth.tokens import TokenValidator
from shared.backups.store import BackupStore
from shared.composition.root import Foundation, foundation, on_reset
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    ENTRA_GROUPS_TABLE,
    MEMBER_TENANTS_TABLE,
    QUEUE_HEALTH_TABLE,
    RUNS_TABLE,
    TENANT_MEMBERS_TABLE,
    TENANT_SUMMARIES_TABLE,
    Settings,
)
from shared.directory.groups import EntraGroupsStore
from shared.monitoring.queue_status import QueueStatusStore
from shared.persistence.blobs import JsonBlobs
from shared.persistence.clients import StorageClients
from shared.run_types.declarations import declared
from shared.runs.dispatch import RunMessage
from shared.runs.links import Links
from shared.runs.run_type import Registry, RunTypeDeclaration
from shared.runs.service import RunService
from shared.runs.store import RunStore
from shared.runs.summaries import TenantSummaries


class ReadOnlyDispatch:
    """The read side never starts a run; if it ever tried, it would fail loudly."""

    def send(self, message: RunMessage, *, delay: int | None = None) -> None:
        raise RuntimeError("the API read side cannot dispatch runs")

    def backlog_age(self, now: datetime) -> timedelta | None:
        return None


@dataclass(frozen=True)
class ApiServices:
    settings: Settings
    storage: StorageClients
    access: Access
    members: MembershipStore
    runs: RunService  # get and list only
    links: Links
    groups: EntraGroupsStore
    backups: BackupStore
    writes: WriteGuard
    monitor: Monitor
    run_types: tuple[RunTypeDeclaration, ...]  # what the catalogue shows

    @property
    def obo_configured(self) -> bool:
        return bool(self.settings.api_client_id and self.settings.api_client_secret)


def build_api_services(base: Foundation) -> ApiServices:
    settings, storage = base.settings, base.storage
    audiences = [settings.api_audience, settings.api_client_id]
    validator = TokenValidator(
        authority_base_url=settings.graph_authority_base_url,
        audiences=[a for a in audiences if a],
        trusted_tenants=settings.auth_trusted_tenants.split(","),
        ca_bundle=settings.graph_ca_bundle,
    )
    members = MembershipStore(
        base.table(TENANT_MEMBERS_TABLE),
        base.table(MEMBER_TENANTS_TABLE),
        ttl=settings.membership_cache_seconds,
    )
    authenticator = Authenticator(
        validator, trust_app_service_principal=settings.trust_app_service_principal
    )
    # A test that replaces the registry sees its run types in the catalogue too.
    registry = base.overrides.registry
    run_types = (
        tuple(registry)
        if registry is not None
        else declared(include_diagnostics=settings.enable_diagnostic_run_types)
    )
    runs = RunService(
        RunStore(base.table(RUNS_TABLE)),
        ReadOnlyDispatch(),
        Registry(),
        lease=settings.run_lease,
        stale_queued_after=settings.stale_queued_after,
        clock=base.clock,
    )
    return ApiServices(
        settings=settings,
        storage=storage,
        access=Access(authenticator, members),
        members=members,
        runs=runs,
        links=Links(settings.public_base_url),
        groups=EntraGroupsStore(base.table(ENTRA_GROUPS_TABLE)),
        backups=BackupStore(
            base.table(BACKUP_SETS_TABLE),
            JsonBlobs(base.container(BACKUP_PAYLOADS_CONTAINER)),
        ),
        writes=WriteGuard.for_origins(
            [settings.public_base_url, *settings.allowed_origins.split(",")]
        ),
        monitor=Monitor(
            base.table(RUNS_TABLE),
            QueueStatusStore(base.table(QUEUE_HEALTH_TABLE)),
            # The read side recomputes missing or too old summaries (storage only).
            TenantSummaries(
                base.table(RUNS_TABLE), base.table(TENANT_SUMMARIES_TABLE), clock=base.clock
            ),
            clock=base.clock,
        ),
        run_types=run_types,
    )


@lru_cache(maxsize=1)
def api_services() -> ApiServices:
    """Built on first use, not at import: the host indexes functions without storage."""
    return build_api_services(foundation())


on_reset(api_services.cache_clear)
