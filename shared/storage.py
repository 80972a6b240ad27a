"""Storage clients from a connection string, and idempotent provisioning of what we use."""

from __future__ import annotations

from dataclasses import dataclass

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.config import RUNS_POISON_QUEUE, RUNS_QUEUE, RUNS_TABLE, TENANTS_TABLE

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented; not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

ALL_TABLES = (RUNS_TABLE, TENANTS_TABLE)
ALL_QUEUES = (RUNS_QUEUE, RUNS_POISON_QUEUE)


def azurite_connection_string(
    host: str = "127.0.0.1", blob: int = 10000, queue: int = 10001, table: int = 10002
) -> str:
    base = f"http://{host}"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={base}:{blob}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint={base}:{queue}/{AZURITE_ACCOUNT};"
        f"TableEndpoint={base}:{table}/{AZURITE_ACCOUNT};"
    )


def expand_connection_string(value: str) -> str:
    """The SDKs differ on the `UseDevelopmentStorage=true` short form; spell it out."""
    if value.strip().rstrip(";").lower() == "usedevelopmentstorage=true":
        return azurite_connection_string()
    return value


@dataclass(frozen=True)
class StorageClients:
    connection_string: str

    @classmethod
    def from_connection_string(cls, value: str) -> StorageClients:
        return cls(expand_connection_string(value))

    def table(self, name: str) -> TableClient:
        return TableClient.from_connection_string(self.connection_string, table_name=name)

    def queue(self, name: str) -> QueueClient:
        # base64 on the wire: host.json's messageEncoding, which the Functions trigger expects.
        return QueueClient.from_connection_string(
            self.connection_string,
            name,
            message_encode_policy=TextBase64EncodePolicy(),
            message_decode_policy=TextBase64DecodePolicy(),
        )

    def provision(
        self, tables: tuple[str, ...] = ALL_TABLES, queues: tuple[str, ...] = ALL_QUEUES
    ) -> None:
        """Create missing tables and queues. Safe to call any number of times, concurrently."""
        tsc = TableServiceClient.from_connection_string(self.connection_string)
        for table in tables:
            tsc.create_table_if_not_exists(table)
        qsc = QueueServiceClient.from_connection_string(self.connection_string)
        for queue in queues:
            try:
                qsc.create_queue(queue)
            except ResourceExistsError:
                pass
