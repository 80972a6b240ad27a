"""The notification part of the composition root: the sink the run outbox hands notices to,
the queue worker, and the stores the /api/me routes read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from shared.composition.graph_tuning import graph_tuning
from shared.composition.root import Foundation
from shared.config import (
    NOTIFICATION_DELIVERIES_TABLE,
    NOTIFICATION_PREFERENCES_TABLE,
    NOTIFICATIONS_QUEUE,
    NOTIFICATIONS_TABLE,
    Settings,
)
from shared.graph import GraphClient, GraphCredentials
from shared.graph.tls import verify_for
from shared.notifications.channels import EmailChannel, ExternalChannel, TeamsChannel
from shared.notifications.emitter import QueueNotifications
from shared.notifications.inbox import Inbox
from shared.notifications.ledger import DeliveryLedger
from shared.notifications.message import Channel
from shared.notifications.preferences import ChannelPlan, PreferenceStore
from shared.notifications.worker import NotificationWorker, RetrySchedule
from shared.runs.model import Run
from shared.runs.run_type import Registry
from shared.runs.store import RunStore
from shared.tenants import TenantStore


@dataclass(frozen=True)
class NotificationServices:
    emitter: QueueNotifications
    worker: NotificationWorker
    inbox: Inbox
    preferences: PreferenceStore
    ledger: DeliveryLedger
    channels: dict[Channel, ExternalChannel]

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()


def external_channels(settings: Settings) -> dict[Channel, ExternalChannel]:
    """The channels this deployment has configured; the others never fire."""
    tuning = graph_tuning()
    channels: dict[Channel, ExternalChannel] = {}
    if settings.notify_mail_sender and settings.notify_mail_client_id:
        graph = GraphClient(
            GraphCredentials(
                tenant_id=settings.notify_mail_tenant_id,
                client_id=settings.notify_mail_client_id,
                client_secret=settings.notify_mail_client_secret or None,
                authority_base_url=settings.graph_authority_base_url,
                graph_base_url=settings.graph_base_url,
                ca_bundle=settings.graph_ca_bundle,
            ),
            apps=tuning.apps,
            retry=tuning.retry,
            sleep=tuning.sleep,
        )
        channels[Channel.EMAIL] = EmailChannel(graph, settings.notify_mail_sender)
    if settings.notify_teams_webhook_url:
        http = httpx.Client(timeout=10, verify=verify_for(settings.graph_ca_bundle))
        channels[Channel.TEAMS] = TeamsChannel(settings.notify_teams_webhook_url, http)
    return channels


def build_notifications(
    base: Foundation,
    *,
    runs: RunStore,
    tenants: TenantStore,
    registry: Registry,
    view_url: Callable[[Run], str],
    clock: Callable[[], datetime],
) -> NotificationServices:
    settings = base.settings
    queue = base.queue(NOTIFICATIONS_QUEUE)
    channels = external_channels(settings)
    preferences = PreferenceStore(
        base.table(NOTIFICATION_PREFERENCES_TABLE),
        ChannelPlan.parse(settings.notify_queued_channels, settings.notify_completed_channels),
        frozenset({Channel.IN_APP, *channels}),
    )
    inbox = Inbox(base.table(NOTIFICATIONS_TABLE))
    ledger = DeliveryLedger(
        base.table(NOTIFICATION_DELIVERIES_TABLE),
        lease=timedelta(seconds=settings.notify_send_lease_seconds),
    )
    worker = NotificationWorker(
        runs=runs,
        tenants=tenants,
        registry=registry,
        preferences=preferences,
        inbox=inbox,
        ledger=ledger,
        channels=channels,
        retry_queue=queue,
        view_url=view_url,
        clock=clock,
        schedule=RetrySchedule(
            max_attempts=settings.notify_max_attempts,
            base_seconds=settings.notify_retry_base_seconds,
        ),
    )
    return NotificationServices(
        QueueNotifications(queue), worker, inbox, preferences, ledger, channels
    )
