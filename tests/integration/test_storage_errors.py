"""One map from Azure SDK errors to the app's errors (shared.persistence.errors), used by
every store: storage that does not answer is StorageUnavailable (a 503 the queue and the
caller retry); an answer about the request (404, 409) keeps the store's own meaning.

The unreachable endpoint is a real closed loopback port, reached through the real SDK
with its retries off; the answering one is the session's Azurite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.data.tables import TableClient
from azure.storage.blob import ContainerClient

from devstack.azurite import Azurite, free_port
from shared.auth.membership import MembershipStore
from shared.errors import NotFound, StorageUnavailable
from shared.notifications.inbox import Inbox
from shared.persistence.blobs import BlobMissing, JsonBlobs
from shared.persistence.clients import azurite_connection_string
from shared.restore.ledger import RestoreLedger
from shared.runs.identity import is_run_id

pytestmark = pytest.mark.azurite

RUN_ID = "01JABCDEFGHJKMNPQRSTVWXYZ0"
TENANT = "00000000-0000-0000-0000-00000000000a"


def _closed() -> str:
    port = free_port()
    return azurite_connection_string(blob=port, queue=port, table=port)


def _table(connection: str, name: str) -> TableClient:
    return TableClient.from_connection_string(connection, name, retry_total=0)


def _container(connection: str, name: str) -> ContainerClient:
    return ContainerClient.from_connection_string(connection, name, retry_total=0)


CALLS: dict[str, Callable[[str], Any]] = {
    "inbox.list": lambda c: Inbox(_table(c, "Notifications")).list(
        "user", unread_only=False, limit=5
    ),
    "inbox.purge_run": lambda c: Inbox(_table(c, "Notifications")).purge_run("user", RUN_ID),
    "membership.tenants_of": lambda c: MembershipStore(
        _table(c, "TenantMembers"), _table(c, "MemberTenants"), ttl=0
    ).tenants_of("someone", fresh=True),
    "restore_ledger.purge_run": lambda c: RestoreLedger(_table(c, "RestoreLedger")).purge_run(
        TENANT, RUN_ID
    ),
    "blobs.get": lambda c: JsonBlobs(_container(c, "payloads")).get(f"{TENANT}/x.json"),
    "blobs.delete_prefix": lambda c: JsonBlobs(_container(c, "payloads")).delete_prefix(
        f"{TENANT}/"
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_storage_that_does_not_answer_is_storage_unavailable(name: str) -> None:
    with pytest.raises(StorageUnavailable):
        CALLS[name](_closed())


def test_answers_keep_their_meaning(azurite: Azurite, unique_name: str) -> None:
    connection = azurite.connection_string
    assert is_run_id(RUN_ID)  # so the NotFound below is the table's answer, not the id's
    missing = Inbox(_table(connection, unique_name))  # no such table: a 404 answer
    with pytest.raises(NotFound):
        missing.get("user", f"{RUN_ID}.completed")
    container = _container(connection, unique_name)
    with pytest.raises(BlobMissing):
        JsonBlobs(container).get(f"{TENANT}/x.json")
