"""One storage connection pool per process, sized to what the host runs at once."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.config import RUNS_TABLE, queue_concurrency
from shared.persistence.clients import HTTP_HEADROOM, StorageClients

POOL_FULL = "Connection pool is full"


def test_the_pool_is_sized_from_host_json() -> None:
    # host.json: batchSize 16 + newBatchThreshold 8 per queue trigger; two triggers use storage.
    assert queue_concurrency() == 24
    clients = StorageClients.from_connection_string("UseDevelopmentStorage=true")
    assert clients.pool_size == 2 * 24 + HTTP_HEADROOM
    adapter = clients.transport.session.get_adapter("http://127.0.0.1:10002/")
    assert adapter._pool_maxsize == clients.pool_size  # type: ignore[attr-defined]


def hammer(clients: StorageClients, concurrency: int) -> None:
    """`concurrency` handlers at once, each reading a few times through its own client."""

    def handler(index: int) -> None:
        table = clients.table(RUNS_TABLE)
        for _ in range(4):
            list(table.query_entities("PartitionKey eq @pk", parameters={"pk": f"p{index}"}))

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(handler, range(concurrency)))


def test_a_full_host_of_handlers_never_discards_connections(
    storage: StorageClients, caplog: pytest.LogCaptureFixture
) -> None:
    clients = StorageClients.from_connection_string(storage.connection_string)
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        hammer(clients, 2 * queue_concurrency())
    assert not [r for r in caplog.records if POOL_FULL in r.getMessage()]


def test_the_sdk_default_pool_would_discard_them(
    storage: StorageClients, caplog: pytest.LogCaptureFixture
) -> None:
    # The control: the same load through requests' default pool of 10 does warn, so the
    # test above can fail.
    clients = StorageClients(storage.connection_string, pool_size=10)
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        hammer(clients, 2 * queue_concurrency())
    assert [r for r in caplog.records if POOL_FULL in r.getMessage()]
