"""The `notifications` queue worker: one event in, each configured channel delivered once.

In-app is exactly once by its row key. External channels go through the ledger:
claim, send, record. A channel outage schedules a retry of that channel alone, as a new
queue message made visible after a backoff; after the last attempt the failure is
recorded on the in-app notification, where the user sees it. A send whose outcome is in
doubt (the service may have delivered it) is never retried: the ledger marks it
`unknown` and the in-app notification says so.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from azure.storage.queue import QueueClient
from pydantic import ValidationError

from shared.errors import UnknownRunType
from shared.notifications.channels import (
    ChannelInDoubt,
    ChannelRejected,
    ChannelUnavailable,
    ExternalChannel,
    Recipient,
)
from shared.notifications.content import NotificationContent, build_content
from shared.notifications.inbox import Inbox, Notification, notification_id
from shared.notifications.ledger import Claim, ClaimResult, DeliveryLedger
from shared.notifications.message import (
    Channel,
    NotificationEvent,
    NotificationMessage,
    parse_notification_body,
)
from shared.notifications.preferences import PreferenceStore
from shared.runs.model import FailureCode, Run
from shared.runs.run_type import Registry
from shared.runs.sanitize import describe_exception, sanitize_message
from shared.runs.store import RunStore
from shared.tenants import TenantStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrySchedule:
    max_attempts: int = 6
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0

    def delay(self, attempt: int) -> int:
        """Seconds before attempt `attempt + 1`: exponential with jitter, capped."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return int(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - jitter only


def _dispatch_failed(run: Run) -> bool:
    return any(f.code == FailureCode.DISPATCH_FAILED for f in run.failures)


class NotificationWorker:
    def __init__(
        self,
        *,
        runs: RunStore,
        tenants: TenantStore,
        registry: Registry,
        preferences: PreferenceStore,
        inbox: Inbox,
        ledger: DeliveryLedger,
        channels: Mapping[Channel, ExternalChannel],
        retry_queue: QueueClient,
        view_url: Callable[[Run], str],
        clock: Callable[[], datetime],
        schedule: RetrySchedule | None = None,
    ) -> None:
        self._runs = runs
        self._tenants = tenants
        self._registry = registry
        self._preferences = preferences
        self._inbox = inbox
        self._ledger = ledger
        self._channels = channels
        self._retry_queue = retry_queue
        self._view_url = view_url
        self._clock = clock
        self._schedule = schedule or RetrySchedule()

    def process(self, body: str | bytes) -> None:
        """One notice, or a batch of them: each handled alone, so one that fails (and
        makes the message come back) never holds up the others; handling is idempotent,
        so those already handled are not told twice when it does."""
        try:
            messages = parse_notification_body(body)
        except ValidationError:
            log.error("dropping unreadable notification message (%d bytes)", len(body))
            return
        failed: Exception | None = None
        for message in messages:
            try:
                self._process_one(message)
            except Exception as error:  # noqa: BLE001 - raised below, after the others
                failed = failed or error
        if failed is not None:
            raise failed

    def _process_one(self, message: NotificationMessage) -> None:
        self._handle(message)
        if message.channel is None:
            # Handled: the run's outbox row is done (until now the reaper would resend it).
            self._runs.remove_notice(message.tenant_id, message.run_id, message.event.value)

    def _handle(self, message: NotificationMessage) -> None:
        run = self._runs.get(message.tenant_id, message.run_id)
        if run is None or not run.initiator.is_human:
            return
        if message.event is NotificationEvent.COMPLETED and not run.is_terminal:
            return  # cannot happen by construction; never announce an unfinished run
        if message.event is NotificationEvent.QUEUED and _dispatch_failed(run):
            return  # the queued event raced a send that failed: it was never queued
        content = self._content(run, message.event)
        plan = self._preferences.effective(run.initiator.id).for_event(message.event)
        if message.channel is None:
            if Channel.IN_APP in plan:
                self._add_in_app(run, message.event, content)
            targets: list[Channel] = [c for c in (Channel.EMAIL, Channel.TEAMS) if c in plan]
        else:
            targets = [message.channel] if message.channel in plan else []
        for channel in targets:
            self._deliver(run, message.event, channel, content)

    def _content(self, run: Run, event: NotificationEvent) -> NotificationContent:
        try:
            title = self._registry.get(run.type).title
        except UnknownRunType:
            title = run.type
        tenant = self._tenants.get(run.tenant_id)
        return build_content(
            run,
            event,
            type_title=title,
            tenant_name=tenant.name if tenant and tenant.name else run.tenant_id,
            link=self._view_url(run),
        )

    def _add_in_app(self, run: Run, event: NotificationEvent, content: NotificationContent) -> None:
        self._inbox.add(
            Notification(
                id=notification_id(run.id, event),
                user_id=run.initiator.id,
                run_id=run.id,
                tenant_id=run.tenant_id,
                event=event,
                # A queued notice may be handled after the run ended: it still says queued.
                outcome=run.outcome.value if event is NotificationEvent.COMPLETED else "pending",
                title=content.title,
                body=content.body,
                link=content.link,
                created_at=self._clock(),
            )
        )

    def _deliver(
        self,
        run: Run,
        event: NotificationEvent,
        channel: Channel,
        content: NotificationContent,
    ) -> None:
        sender = self._channels.get(channel)
        if sender is None:
            return
        now = self._clock()
        claim = self._ledger.claim(run.id, event, channel, now)
        if claim.result is ClaimResult.IN_DOUBT:
            self._problem(run, event, f"{channel.value}: delivery unknown (interrupted)")
            return
        if claim.result is ClaimResult.BUSY and claim.lease_until is not None:
            # Another worker holds a live claim, or one died holding it (its `retry` was
            # never recorded). Look again when the claim runs out: then it is either done
            # or marked unknown and shown in-app, never silently left `sending`.
            wait = (claim.lease_until - now).total_seconds()
            self._schedule_channel(run, event, channel, claim.attempt, wait + 1)
            return
        if claim.result is not ClaimResult.ACQUIRED:
            return
        recipient = Recipient(run.initiator.id, run.initiator.name, run.initiator.email)
        try:
            sender.send(recipient, content)
        except ChannelUnavailable as error:
            reason = sanitize_message(error.message)
            if claim.attempt >= self._schedule.max_attempts:
                self._give_up(run, event, channel, claim, reason)
                return
            self._ledger.record(
                run.id, event, channel, claim, state="retry", now=self._clock(), error=reason
            )
            self._schedule_channel(
                run, event, channel, claim.attempt + 1, self._schedule.delay(claim.attempt)
            )
            log.warning(
                "%s for run %s failed (attempt %d): %s", channel, run.id, claim.attempt, reason
            )
        except ChannelInDoubt as error:
            reason = sanitize_message(error.message)
            self._ledger.record(
                run.id, event, channel, claim, state="unknown", now=self._clock(), error=reason
            )
            self._problem(run, event, f"{channel.value}: delivery unknown ({reason})")
            log.warning("%s for run %s may or may not have gone: %s", channel, run.id, reason)
        except Exception as error:  # noqa: BLE001 - a rejected or broken channel: give up now
            reason = (
                sanitize_message(error.message)
                if isinstance(error, ChannelRejected)
                else describe_exception(error)
            )
            self._give_up(run, event, channel, claim, reason)
        else:
            self._ledger.record(run.id, event, channel, claim, state="sent", now=self._clock())

    def _schedule_channel(
        self,
        run: Run,
        event: NotificationEvent,
        channel: Channel,
        attempt: int,
        delay: float,
    ) -> None:
        message = NotificationMessage(
            event=event,
            run_id=run.id,
            tenant_id=run.tenant_id,
            channel=channel,
            attempt=max(1, attempt),
        )
        self._retry_queue.send_message(
            message.model_dump_json(), visibility_timeout=max(0, math.ceil(delay))
        )

    def _give_up(
        self,
        run: Run,
        event: NotificationEvent,
        channel: Channel,
        claim: Claim,
        reason: str,
    ) -> None:
        self._ledger.record(
            run.id, event, channel, claim, state="failed", now=self._clock(), error=reason
        )
        self._problem(run, event, f"{channel.value}: {reason}")
        log.error("%s for run %s failed for good: %s", channel, run.id, reason)

    def _problem(self, run: Run, event: NotificationEvent, problem: str) -> None:
        self._inbox.note_problem(run.initiator.id, notification_id(run.id, event), problem)
