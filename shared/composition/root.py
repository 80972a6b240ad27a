"""What every service of the process shares: settings, storage clients and the clock.

Read once per process (on first use, not at import: the host indexes functions without
storage). This is the only module that reads the storage settings and builds
`StorageClients` from them; tests/unit/test_composition_boundary.py fails if another does.
Tests replace parts with `override(...)` rather than wiring services by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.composition.provisioning import provision
from shared.config import Settings, get_settings
from shared.persistence.clients import StorageClients, identity_endpoints

if TYPE_CHECKING:
    import httpx
    from azure.data.tables import TableClient
    from azure.storage.blob import ContainerClient
    from azure.storage.queue import QueueClient

    from shared.runs.dispatch import Dispatcher
    from shared.runs.run_type import Registry


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Overrides:
    """Parts a test supplies instead of the deployed ones; None means "as deployed"."""

    settings: Settings | None = None
    storage: StorageClients | None = None
    clock: Callable[[], datetime] | None = None
    # Where the run service sends work messages (default: the runs queue).
    dispatcher: Dispatcher | None = None
    # How the run types' Graph clients reach Graph (default: the network).
    graph_transport: httpx.BaseTransport | None = None
    # The run types (default: the catalogue, with diagnostics if the settings say so).
    registry: Registry | None = None
    # Private table, queue and container names by their deployed name (default: none), so
    # a test's rows and messages never meet another test's.
    renames: Mapping[str, str] | None = None
    # (How Graph clients retry, wait and cache tokens is overridden on the full side, in
    # shared.composition.graph_tuning: the read side, which imports this module, must not
    # reach Graph even through a type.)
    # How the run outbox hands each notice on after the commit (default: the batching relay).
    outbox_run_after: Callable[[Callable[[], None]], None] | None = None


@dataclass(frozen=True)
class Foundation:
    settings: Settings
    storage: StorageClients
    clock: Callable[[], datetime]
    overrides: Overrides

    def _name(self, name: str) -> str:
        return (self.overrides.renames or {}).get(name, name)

    def table(self, name: str) -> TableClient:
        return self.storage.table(self._name(name))

    def queue(self, name: str) -> QueueClient:
        return self.storage.queue(self._name(name))

    def container(self, name: str) -> ContainerClient:
        return self.storage.container(self._name(name))


def storage_from_settings(settings: Settings) -> StorageClients:
    """Identity-based when the identity settings are present (as infra/ deploys it: no
    connection string at all), else the connection string (Azurite locally)."""
    endpoints = identity_endpoints(
        settings.storage_account_name,
        blob_uri=settings.storage_blob_service_uri,
        queue_uri=settings.storage_queue_service_uri,
        table_uri=settings.storage_table_service_uri,
    )
    if endpoints is None:
        return StorageClients.from_connection_string(settings.storage_connection_string)
    from azure.identity import DefaultAzureCredential  # only where it is used

    credential = DefaultAzureCredential(
        managed_identity_client_id=settings.managed_identity_client_id
    )
    return StorageClients.from_identity(endpoints, credential)


def build_foundation(overrides: Overrides) -> Foundation:
    settings = overrides.settings or get_settings()
    storage = overrides.storage or storage_from_settings(settings)
    if settings.auto_provision_storage:
        provision(storage)
    return Foundation(settings, storage, overrides.clock or utcnow, overrides)


_overrides = Overrides()
# Caches of the builders in this package, forgotten together (see reset()).
_forgetters: list[Callable[[], None]] = []


def on_reset(forget: Callable[[], None]) -> None:
    """A builder's way to be told that the foundation is being rebuilt."""
    _forgetters.append(forget)


@lru_cache(maxsize=1)
def foundation() -> Foundation:
    return build_foundation(_overrides)


def reset() -> None:
    """Forget everything built (after settings or overrides changed), closing clients."""
    for forget in _forgetters:
        forget()
    foundation.cache_clear()
    get_settings.cache_clear()


@contextmanager
def override(**parts: object) -> Iterator[Foundation]:
    """Build the process's services with these parts replaced, e.g. override(storage=...,
    clock=...); everything is rebuilt on entry and forgotten on exit."""
    global _overrides
    previous = _overrides
    _overrides = replace(previous, **parts)  # type: ignore[arg-type]
    reset()
    try:
        yield foundation()
    finally:
        _overrides = previous
        reset()
