"""Notifications from the composition root over Azurite and the local Entra/Graph (sendMail
captured, Teams sink), with a private queue and retries at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from azure.storage.queue import QueueClient

from localcloud import LocalCloud
from localcloud.seed import (
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)
from shared.composition import root
from shared.composition.graph_tuning import GraphTuning, override_graph
from shared.composition.services import services
from shared.config import NOTIFICATIONS_QUEUE, Settings
from shared.graph import MsalApps, RetryPolicy
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.notifications.preferences import PreferenceStore
from shared.notifications.worker import NotificationWorker
from shared.persistence.clients import StorageClients
from shared.runs.model import Initiator
from shared.runs.outbox import inline
from shared.tenants import ManagedTenant
from tests.integration.conftest import Harness
from tests.integration.localcloud.conftest import (  # noqa: F401 - fixtures
    clean_cloud,
    cloud,
)

SENDER = "intune-runs@contoso.onmicrosoft.com"
MAX_ATTEMPTS = 3


@dataclass
class Notify:
    harness: Harness
    cloud: LocalCloud
    queue: QueueClient
    worker: NotificationWorker
    inbox: Inbox
    ledger: DeliveryLedger
    preferences: PreferenceStore
    webhook: str
    alice: Initiator
    bob: Initiator

    def drain(self, limit: int = 50) -> int:
        """Deliver every visible notification message, as the host would (delete on success)."""
        handled = 0
        while handled < limit:
            batch = list(self.queue.receive_messages(max_messages=32, visibility_timeout=30))
            if not batch:
                return handled
            for message in batch:
                self.worker.process(message.content)
                self.queue.delete_message(message)
                handled += 1
        return handled

    def mails(self) -> list:  # type: ignore[type-arg]
        return self.cloud.sent_mail(CONTOSO_TENANT_ID)

    def cards(self) -> list:  # type: ignore[type-arg]
        return self.cloud.teams_posts(self.webhook)


@pytest.fixture
def harness_settings(
    harness_settings: Settings,
    cloud: LocalCloud,  # noqa: F811 - the imported fixture
    unique_name: str,
) -> Settings:
    """Mail through the local cloud's Graph as the demo tenant's app, Teams to this test's
    webhook, and retries at once: a test sees every attempt without waiting."""
    return harness_settings.model_copy(
        update={
            "public_base_url": "https://portal.test",
            "graph_authority_base_url": cloud.base_url,
            "graph_base_url": cloud.graph_base_url,
            "graph_ca_bundle": str(cloud.ca_path),
            "notify_mail_sender": SENDER,
            "notify_mail_tenant_id": CONTOSO_TENANT_ID,
            "notify_mail_client_id": CONTOSO_GRAPH_CLIENT_ID,
            "notify_mail_client_secret": CONTOSO_GRAPH_CLIENT_SECRET,
            "notify_teams_webhook_url": cloud.teams_webhook_url(unique_name),
            "notify_max_attempts": MAX_ATTEMPTS,
            "notify_retry_base_seconds": 0.0,
        }
    )


@pytest.fixture
def notify_root(storage: StorageClients, unique_name: str) -> Iterator[QueueClient]:
    """A private notifications queue, notices handed on inline (tests see them at once),
    fast Graph retries without sleeping and a fresh msal registry, for the services the
    harness then builds through the root."""
    queue = storage.queue(unique_name + "n")
    queue.create_queue()
    storage.provision(
        tables=("Notifications", "NotificationDeliveries", "NotificationPreferences", "Tenants"),
        queues=(),
    )
    apps = MsalApps()
    tuning = GraphTuning(
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        apps=apps,
        sleep=lambda _: None,
    )
    try:
        with (
            root.override(renames={NOTIFICATIONS_QUEUE: queue.queue_name}, outbox_run_after=inline),
            override_graph(tuning),
        ):
            yield queue
    finally:
        apps.close()
        queue.delete_queue()


@pytest.fixture
def harness(notify_root: QueueClient, harness: Harness) -> Harness:
    """The shared harness, built inside notify_root's overrides (hence requested first)."""
    return harness


@pytest.fixture
def notify(
    harness: Harness,
    notify_root: QueueClient,
    cloud: LocalCloud,  # noqa: F811 - the imported fixture
    unique_name: str,
) -> Notify:
    built = services()
    built.tenants.upsert(ManagedTenant(harness.tenant_id, "Contoso <Ltd>"))
    notices = built.notifications
    # Fresh people per test: a user's inbox is one partition shared by every test otherwise.
    alice = Initiator(id=str(uuid.uuid4()), name="Alice", email="alice@x.test")
    bob = Initiator(id=str(uuid.uuid4()), name="Bob", email="bob@x.test")
    return Notify(
        harness,
        cloud,
        notify_root,
        notices.worker,
        notices.inbox,
        notices.ledger,
        notices.preferences,
        unique_name,
        alice,
        bob,
    )
