"""Notifications wired to Azurite and the local Entra/Graph (sendMail captured, Teams sink)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from azure.storage.queue import QueueClient

from localcloud import LocalCloud
from localcloud.seed import (
    CONTOSO_GRAPH_CLIENT_ID,
    CONTOSO_GRAPH_CLIENT_SECRET,
    CONTOSO_TENANT_ID,
)
from shared.graph import GraphClient, GraphCredentials, MsalApps, RetryPolicy
from shared.graph.tls import verify_for
from shared.notifications.channels import EmailChannel, TeamsChannel
from shared.notifications.emitter import QueueNotifications
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.notifications.message import Channel
from shared.notifications.preferences import ChannelPlan, PreferenceStore
from shared.notifications.worker import NotificationWorker, RetrySchedule
from shared.persistence.clients import StorageClients
from shared.runs.model import Initiator
from shared.runs.outbox import Outbox, inline
from shared.tenants import ManagedTenant, TenantStore
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
def notify(
    harness: Harness,
    cloud: LocalCloud,  # noqa: F811 - the imported fixture
    storage: StorageClients,
    unique_name: str,
) -> Iterator[Notify]:
    queue = storage.queue(unique_name + "n")
    queue.create_queue()
    storage.provision(
        tables=("Notifications", "NotificationDeliveries", "NotificationPreferences", "Tenants"),
        queues=(),
    )
    # The run service's outbox hands notices to our queue, inline so tests see them at once.
    harness.service._outbox = Outbox(harness.store, QueueNotifications(queue), run_after=inline)
    TenantStore(storage.table("Tenants")).upsert(ManagedTenant(harness.tenant_id, "Contoso <Ltd>"))
    apps = MsalApps()
    graph = GraphClient(
        GraphCredentials(
            tenant_id=CONTOSO_TENANT_ID,
            client_id=CONTOSO_GRAPH_CLIENT_ID,
            client_secret=CONTOSO_GRAPH_CLIENT_SECRET,
            authority_base_url=cloud.base_url,
            graph_base_url=cloud.graph_base_url,
            ca_bundle=str(cloud.ca_path),
        ),
        apps=apps,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        sleep=lambda _: None,
    )
    http = httpx.Client(verify=verify_for(str(cloud.ca_path)), timeout=5)
    webhook = unique_name
    inbox = Inbox(storage.table("Notifications"))
    ledger = DeliveryLedger(storage.table("NotificationDeliveries"), lease=timedelta(minutes=5))
    preferences = PreferenceStore(
        storage.table("NotificationPreferences"),
        ChannelPlan.parse("in_app", "in_app,email,teams"),
        frozenset(Channel),
    )
    worker = NotificationWorker(
        runs=harness.store,
        tenants=TenantStore(storage.table("Tenants")),
        registry=harness.registry,
        preferences=preferences,
        inbox=inbox,
        ledger=ledger,
        channels={
            Channel.EMAIL: EmailChannel(graph, SENDER),
            Channel.TEAMS: TeamsChannel(cloud.teams_webhook_url(webhook), http),
        },
        retry_queue=queue,
        view_url=lambda run: (
            f"https://portal.test/monitoring/#/tenants/{run.tenant_id}/runs/{run.id}"
        ),
        clock=harness.clock,
        schedule=RetrySchedule(max_attempts=MAX_ATTEMPTS, base_seconds=0.0, cap_seconds=0.0),
    )
    # Fresh people per test: a user's inbox is one partition shared by every test otherwise.
    alice = Initiator(id=str(uuid.uuid4()), name="Alice", email="alice@x.test")
    bob = Initiator(id=str(uuid.uuid4()), name="Bob", email="bob@x.test")
    yield Notify(harness, cloud, queue, worker, inbox, ledger, preferences, webhook, alice, bob)
    http.close()
    graph.close()
    apps.close()
    queue.delete_queue()
