"""RowBatch: buffered upserts written as entity-group transactions of one partition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.data.tables import TableClient

from shared.persistence.clients import StorageClients
from shared.persistence.tables import MAX_PROPERTY_CHARS, RowBatch, prefix_range, query_range


@pytest.fixture
def table(storage: StorageClients) -> Iterator[TableClient]:
    client = storage.table(f"batch{uuid.uuid4().hex[:12]}")
    client.create_table()
    yield client
    client.delete_table()


def _rows(table: TableClient, partition: str) -> list[dict[str, object]]:
    return list(query_range(table, partition, prefix_range("")))


def test_rows_go_a_hundred_per_transaction(table: TableClient) -> None:
    with RowBatch(table) as batch:
        for index in range(250):
            batch.add({"PartitionKey": "p", "RowKey": f"r{index:04d}", "N": index})
    assert batch.transactions == 3
    assert [r["N"] for r in _rows(table, "p")] == list(range(250))


def test_heavy_rows_are_split_to_stay_under_the_transaction_size(table: TableClient) -> None:
    payload = "x" * MAX_PROPERTY_CHARS  # ~60 KB as stored: 60 rows are over 3 MiB
    with RowBatch(table) as batch:
        for index in range(60):
            batch.add({"PartitionKey": "p", "RowKey": f"r{index:02d}", "Payload": payload})
    assert batch.transactions == 2
    assert len(_rows(table, "p")) == 60


def test_rows_buffered_when_the_block_fails_are_still_written(table: TableClient) -> None:
    with pytest.raises(RuntimeError), RowBatch(table) as batch:
        batch.add({"PartitionKey": "p", "RowKey": "done"})
        raise RuntimeError("cancelled between items")
    assert [r["RowKey"] for r in _rows(table, "p")] == ["done"]


def test_a_batch_of_one_is_one_transaction_per_row(table: TableClient) -> None:
    with RowBatch(table, size=1) as batch:
        for index in range(3):
            batch.add({"PartitionKey": "p", "RowKey": f"r{index}"})
    assert batch.transactions == 3
