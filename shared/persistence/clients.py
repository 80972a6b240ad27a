"""Storage clients, and idempotent provisioning of what we use.

Two ways in: a connection string (Azurite locally, `UseDevelopmentStorage=true`), or, in
Azure, identity-based: `AzureWebJobsStorage__accountName` and/or the per-service URIs
(`__blobServiceUri`, `__queueServiceUri`, `__tableServiceUri`), reached with
DefaultAzureCredential (the Function App's managed identity). The same setting names
configure the Functions host's own connection, so one set of settings serves both.
Which way is chosen from settings in one place only: shared.composition.root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import requests
from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    NOTIFICATIONS_QUEUE,
    POLICY_PAYLOADS_CONTAINER,
    RUNS_POISON_QUEUE,
    RUNS_QUEUE,
    queue_concurrency,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented; not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

ALL_QUEUES = (RUNS_QUEUE, RUNS_POISON_QUEUE, NOTIFICATIONS_QUEUE)
ALL_CONTAINERS = (POLICY_PAYLOADS_CONTAINER, BACKUP_PAYLOADS_CONTAINER)


# Deliveries the host may run at once in one instance: the work queue's and the
# notifications queue's triggers (host.json batchSize + newBatchThreshold each), plus
# headroom for HTTP requests and timers. Every storage client of the process shares one
# pool of this many connections per endpoint, so concurrent handlers never open and
# discard connections ("Connection pool is full").
HTTP_HEADROOM = 16


def process_pool_size() -> int:
    return 2 * queue_concurrency() + HTTP_HEADROOM


@lru_cache(maxsize=4)
def pooled_transport(pool_size: int) -> RequestsTransport:
    """One requests session for every SDK client of the process (however many builders
    make a StorageClients), with a connection pool of `pool_size` per endpoint. Retries
    stay off at this layer, as azure-core sets them: the SDK pipeline's policy retries."""
    # trust_env stays on: REQUESTS_CA_BUNDLE (a private CA, as the deployed configuration
    # run locally uses) and proxy variables must keep applying to storage.
    session = requests.Session()
    adapter = HTTPAdapter(
        pool_connections=8,
        pool_maxsize=pool_size,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return RequestsTransport(session=session, session_owner=False)


def azurite_connection_string(
    host: str = "127.0.0.1",
    blob: int = 10000,
    queue: int = 10001,
    table: int = 10002,
    scheme: str = "http",
) -> str:
    base = f"{scheme}://{host}"
    return (
        f"DefaultEndpointsProtocol={scheme};AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
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
class StorageEndpoints:
    """Service URIs of one storage account, for identity-based access."""

    blob: str
    queue: str
    table: str


def identity_endpoints(
    account_name: str = "",
    *,
    blob_uri: str = "",
    queue_uri: str = "",
    table_uri: str = "",
    suffix: str = "core.windows.net",
) -> StorageEndpoints | None:
    """The endpoints to use with a token credential, or None for connection-string mode.

    An explicit service URI wins; the account name fills in the public-cloud default for
    any service without one. Some URIs but no account name is a configuration error.
    """
    account = account_name.strip()
    given = {"blob": blob_uri.strip(), "queue": queue_uri.strip(), "table": table_uri.strip()}
    if not account and not any(given.values()):
        return None
    resolved: dict[str, str] = {}
    for service, uri in given.items():
        if not uri:
            if not account:
                raise ValueError(
                    f"identity-based storage needs AzureWebJobsStorage__{service}ServiceUri "
                    "or AzureWebJobsStorage__accountName"
                )
            uri = f"https://{account}.{service}.{suffix}"
        resolved[service] = uri.rstrip("/")
    return StorageEndpoints(**resolved)


@dataclass(frozen=True)
class StorageClients:
    connection_string: str = ""
    endpoints: StorageEndpoints | None = None
    credential: TokenCredential | None = None
    pool_size: int = field(default_factory=process_pool_size)
    # Shared by every client these factories build (one pool per process, not per client).
    transport: RequestsTransport = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "transport", pooled_transport(self.pool_size))

    def _shared(self) -> dict[str, Any]:
        return {"transport": self.transport}

    @classmethod
    def from_connection_string(cls, value: str) -> StorageClients:
        return cls(expand_connection_string(value))

    @classmethod
    def from_identity(
        cls, endpoints: StorageEndpoints, credential: TokenCredential
    ) -> StorageClients:
        return cls(endpoints=endpoints, credential=credential)

    @property
    def uses_identity(self) -> bool:
        return self.endpoints is not None

    def table(self, name: str) -> TableClient:
        if self.endpoints is not None:
            return TableClient(
                self.endpoints.table, name, credential=self.credential, **self._shared()
            )
        return TableClient.from_connection_string(
            self.connection_string, table_name=name, **self._shared()
        )

    def queue(self, name: str) -> QueueClient:
        # base64 on the wire: host.json's messageEncoding, which the Functions trigger expects.
        encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
        if self.endpoints is not None:
            return QueueClient(
                self.endpoints.queue,
                name,
                credential=self.credential,
                message_encode_policy=encode,
                message_decode_policy=decode,
                **self._shared(),
            )
        return QueueClient.from_connection_string(
            self.connection_string,
            name,
            message_encode_policy=encode,
            message_decode_policy=decode,
            **self._shared(),
        )

    def container(self, name: str) -> ContainerClient:
        if self.endpoints is not None:
            return ContainerClient(
                self.endpoints.blob, name, credential=self.credential, **self._shared()
            )
        return ContainerClient.from_connection_string(
            self.connection_string, name, **self._shared()
        )

    def table_service(self) -> TableServiceClient:
        if self.endpoints is not None:
            return TableServiceClient(
                self.endpoints.table, credential=self.credential, **self._shared()
            )
        return TableServiceClient.from_connection_string(self.connection_string, **self._shared())

    def queue_service(self) -> QueueServiceClient:
        if self.endpoints is not None:
            return QueueServiceClient(
                self.endpoints.queue, credential=self.credential, **self._shared()
            )
        return QueueServiceClient.from_connection_string(self.connection_string, **self._shared())

    def blob_service(self) -> BlobServiceClient:
        if self.endpoints is not None:
            return BlobServiceClient(
                self.endpoints.blob, credential=self.credential, **self._shared()
            )
        return BlobServiceClient.from_connection_string(self.connection_string, **self._shared())

    def provision(
        self,
        tables: tuple[str, ...],
        queues: tuple[str, ...] = ALL_QUEUES,
        containers: tuple[str, ...] = ALL_CONTAINERS,
    ) -> None:
        """Create missing tables, queues and blob containers. Safe to call any number of
        times, concurrently."""
        tsc = self.table_service()
        for table in tables:
            tsc.create_table_if_not_exists(table)
        qsc = self.queue_service()
        for queue in queues:
            try:
                qsc.create_queue(queue)
            except ResourceExistsError:
                pass
        bsc = self.blob_service()
        for container in containers:
            try:
                bsc.create_container(container)
            except ResourceExistsError:
                pass
