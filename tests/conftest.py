"""Session-wide fixtures: one Azurite for the whole run, unique names per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devstack.azurite import Azurite, start_azurite
from shared.composition.provisioning import provision
from shared.persistence.clients import StorageClients


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    instance = start_azurite()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def storage(azurite: Azurite) -> StorageClients:
    clients = StorageClients.from_connection_string(azurite.connection_string)
    provision(clients)
    return clients


@pytest.fixture
def tenant_id() -> str:
    """A fresh managed-tenant id: tests share tables but never a partition."""
    return str(uuid.uuid4())


@pytest.fixture
def unique_name() -> str:
    """A fresh lower-case name usable as a queue name."""
    return f"t{uuid.uuid4().hex[:20]}"
