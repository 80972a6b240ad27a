"""What the process's storage clients send: counted on their one shared session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shared.persistence.clients import StorageClients


@dataclass
class StorageRequest:
    method: str
    url: str
    body: bytes

    def is_transaction_on(self, table: Any) -> bool:
        return "$batch" in self.url and f"/{table.table_name}(".encode() in self.body


@contextmanager
def storage_requests(storage: StorageClients) -> Iterator[list[StorageRequest]]:
    """Every request the process's storage clients send while the block runs."""
    seen: list[StorageRequest] = []

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        seen.append(StorageRequest(response.request.method, response.request.url, raw))

    hooks = storage.transport.session.hooks["response"]
    hooks.append(record)
    try:
        yield seen
    finally:
        hooks.remove(record)
