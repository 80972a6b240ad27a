"""JSON documents in Blob storage: payloads too large for a table property.

Blob names start with the tenant id, so a tenant's documents share a prefix (listing or
deleting one tenant's data never walks another's). Each document carries its SHA-256 in
the row that points to it, so a reader can tell a torn or swapped blob from the real one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.errors import AppError
from shared.persistence.errors import storage_errors

_JSON = ContentSettings(content_type="application/json")


class BlobMissing(AppError):
    """A row points at a payload blob that is not there (or not the one written)."""

    code = "payload_missing"


def encode(document: Any) -> tuple[bytes, str]:
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return data, hashlib.sha256(data).hexdigest()


class JsonBlobs:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def put(self, name: str, document: Any) -> str:
        """Write (or overwrite) a document; returns its SHA-256 (hex)."""
        data, digest = encode(document)
        with storage_errors("writing a blob"):
            self._container.upload_blob(
                name, data, overwrite=True, content_settings=_JSON, metadata={"sha256": digest}
            )
        return digest

    def get(self, name: str, sha256: str | None = None) -> Any:
        try:
            with storage_errors("reading a blob"):
                data = self._container.download_blob(name).readall()
        except ResourceNotFoundError:
            raise BlobMissing(f"payload blob {name} is missing") from None
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise BlobMissing(f"payload blob {name} does not match its recorded digest")
        return json.loads(data)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every document whose name starts with `prefix`; returns how many."""
        deleted = 0
        with storage_errors("deleting blobs"):
            for blob in self._container.list_blobs(name_starts_with=prefix):
                try:
                    self._container.delete_blob(blob.name)
                    deleted += 1
                except ResourceNotFoundError:
                    pass
        return deleted

    def delete(self, name: str) -> None:
        """Remove a document; one already gone is fine (deletes are retried)."""
        with storage_errors("deleting a blob"):
            try:
                self._container.delete_blob(name)
            except ResourceNotFoundError:
                pass
