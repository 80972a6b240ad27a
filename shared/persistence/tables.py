"""Table Storage conventions for per-tenant stores: one partition per query, batched
writes, transient failures as StorageUnavailable, values that fit a property.

Every query here is bound to one PartitionKey and passes values with `parameters=`,
never by string formatting (a tenant id or row key is data, not filter syntax).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, TableTransactionError

from shared.errors import PayloadTooLarge

# Re-exported: a store imports its table helpers from here.
from shared.persistence.errors import storage_errors as storage_errors

# An entity-group transaction holds at most 100 entities of one partition.
MAX_BATCH = 100
# A string property holds 64 KiB of UTF-16: 32,768 UTF-16 code units. The run store
# refuses past the hard limit; other stores cap their values well under it.
MAX_PROPERTY_BYTES = 64 * 1024
MAX_PROPERTY_CHARS = 30_000
# "~" is the highest printable ASCII key character we use; "\x7f" bounds a prefix range.
RANGE_END = "\x7f"

Entity = dict[str, Any]


def prefix_range(prefix: str) -> tuple[str, str]:
    return prefix, prefix + RANGE_END


def query_range(
    table: TableClient,
    partition: str,
    key_range: tuple[str, str],
    select: Sequence[str] | None = None,
) -> Iterator[Entity]:
    """Rows of one partition with lo <= RowKey < hi."""
    with storage_errors(f"reading {table.table_name}"):
        yield from table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": partition, "lo": key_range[0], "hi": key_range[1]},
            select=list(select) if select else None,
        )


def get_row(table: TableClient, partition: str, row_key: str) -> TableEntity | None:
    """One row by key (a TableEntity: its .metadata holds the ETag), or None."""
    with storage_errors(f"reading {table.table_name}"):
        try:
            return table.get_entity(partition, row_key)
        except ResourceNotFoundError:
            return None


def etag_of(row: object) -> str | None:
    metadata = getattr(row, "metadata", None)
    etag = metadata.get("etag") if isinstance(metadata, dict) else None
    return etag if isinstance(etag, str) else None


def _chunks(items: Sequence[Entity], size: int = MAX_BATCH) -> Iterator[Sequence[Entity]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_rows(table: TableClient, rows: Iterable[Entity]) -> int:
    """Replace-upsert rows (all of one partition) in transactions of up to 100."""
    items = list(rows)
    with storage_errors(f"writing {table.table_name}"):
        for chunk in _chunks(items):
            table.submit_transaction([("upsert", row, {"mode": "replace"}) for row in chunk])
    return len(items)


# A transaction's body must stay under 4 MiB; rows with inline payloads (up to 64 KiB a
# property) reach that well before 100 of them. Leave room for the multipart framing.
MAX_BATCH_BYTES = 3 * 1024 * 1024


def _approx_bytes(row: Entity) -> int:
    """Roughly what the row weighs on the wire (strings as UTF-16, as the service counts)."""
    return sum(
        2 * (len(name) + (len(value) if isinstance(value, str) else 16))
        for name, value in row.items()
    )


class RowBatch:
    """Replace-upserts of one partition, buffered and written 100 (or ~3 MiB) per
    entity-group transaction instead of one request per row.

    Use it as a context manager: leaving the block writes what is buffered, also when the
    block ends with an exception (a cancelled run keeps the items it finished); a failed
    write then does not hide the exception that ended the block.
    """

    def __init__(self, table: TableClient, size: int = MAX_BATCH) -> None:
        self._table = table
        self._size = max(1, min(size, MAX_BATCH))
        self._rows: list[Entity] = []
        self._bytes = 0
        self.transactions = 0

    def add(self, row: Entity) -> None:
        weight = _approx_bytes(row)
        if self._rows and self._bytes + weight > MAX_BATCH_BYTES:
            self.flush()
        self._rows.append(row)
        self._bytes += weight
        if len(self._rows) >= self._size:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows, self._bytes = self._rows, [], 0
        with storage_errors(f"writing {self._table.table_name}"):
            self._table.submit_transaction([("upsert", row, {"mode": "replace"}) for row in rows])
        self.transactions += 1

    def __enter__(self) -> RowBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.flush()
            return
        pending = len(self._rows)
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the exception already propagating matters more
            logging.getLogger(__name__).warning(
                "could not write %d buffered rows to %s", pending, self._table.table_name
            )


def delete_rows(table: TableClient, partition: str, row_keys: Iterable[str]) -> int:
    keys = list(row_keys)
    rows = [{"PartitionKey": partition, "RowKey": key} for key in keys]
    with storage_errors(f"deleting from {table.table_name}"):
        for chunk in _chunks(rows):
            table.submit_transaction([("delete", row) for row in chunk])
    return len(keys)


def purge_rows(table: TableClient, partition: str, row_keys: Sequence[str]) -> int:
    """Delete rows of one partition, <= 100 per transaction; rows already gone are fine
    (a purge is retried after a crash). Returns how many this call deleted."""
    deleted = 0
    for start in range(0, len(row_keys), MAX_BATCH):
        chunk = row_keys[start : start + MAX_BATCH]
        try:
            with storage_errors(f"deleting from {table.table_name}"):
                table.submit_transaction(
                    [("delete", {"PartitionKey": partition, "RowKey": key}) for key in chunk]
                )
            deleted += len(chunk)
            continue
        except TableTransactionError:
            pass  # someone deleted one meanwhile: fall back to single deletes
        for key in chunk:
            with storage_errors(f"deleting from {table.table_name}"):
                try:
                    table.delete_entity(partition, key)
                    deleted += 1
                except ResourceNotFoundError:
                    pass
    return deleted


def purge_range(table: TableClient, partition: str, key_range: tuple[str, str]) -> int:
    """Delete every row of one partition whose RowKey is in `key_range` (see purge_rows)."""
    keys = [row["RowKey"] for row in query_range(table, partition, key_range, ("RowKey",))]
    return purge_rows(table, partition, keys)


def fit_text(value: object, limit: int = 1024) -> str:
    """A display string capped well inside one property (names, descriptions)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stored_bytes(value: str) -> int:
    """A string property's size as Table Storage counts it (UTF-16)."""
    return len(value.encode("utf-16-le"))


def check_property_size(name: str, value: str) -> str:
    """The value, or PayloadTooLarge (413) if it cannot be one string property."""
    size = stored_bytes(value)
    if size > MAX_PROPERTY_BYTES:
        raise PayloadTooLarge(
            f"{name} is {size} bytes as stored; the limit is {MAX_PROPERTY_BYTES}",
            details={"field": name, "bytes": size, "limit": MAX_PROPERTY_BYTES},
        )
    return value


def json_property(value: Any) -> str | None:
    """Compact JSON if it fits one string property, else None (the caller uses a blob)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if stored_bytes(text) // 2 <= MAX_PROPERTY_CHARS else None
