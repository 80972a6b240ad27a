"""One contract, two tables: Azurite's and the in-memory one must answer alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.persistence.clients import StorageClients
from shared.persistence.memory_table import MemoryTable


@pytest.fixture(params=["azurite", "memory"])
def table(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryTable("Contract")
        return
    storage: StorageClients = request.getfixturevalue("storage")
    name = f"Contract{uuid.uuid4().hex[:12]}"
    client = storage.table(name)
    client.create_table()
    try:
        yield client
    finally:
        client.delete_table()
