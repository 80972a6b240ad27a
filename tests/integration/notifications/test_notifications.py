"""Initiator notifications end to end: events, channels, exactly once, outages, escaping."""

from __future__ import annotations

import json

from localcloud.seed import CONTOSO_TENANT_ID
from shared.notifications.ledger import ClaimResult
from shared.notifications.message import Channel, NotificationEvent
from shared.notifications.preferences import ChannelPlan
from shared.runs.model import Initiator
from tests.integration.notifications.conftest import MAX_ATTEMPTS, SENDER, Notify

HOSTILE = "<script>alert(1)</script> **bold** [x](https://evil.test) <at>Everyone</at>"


def _finish(notify: Notify, inputs: dict | None = None, who: Initiator | None = None) -> str:
    run, _ = notify.harness.start(inputs=inputs or {"items": 2}, who=who or notify.alice)
    # The run's work message is on the harness queue; the worker ends the run.
    notify.harness.deliver_next()
    return run.id


def test_queued_and_completed_reach_the_initiator_on_every_channel(notify: Notify) -> None:
    run_id = _finish(notify, {"items": 3, "fail_items": [2]})
    assert notify.drain() == 2
    items, _ = notify.inbox.list(notify.alice.id, unread_only=False, limit=10)
    assert [(n.event, n.outcome) for n in items] == [
        (NotificationEvent.COMPLETED, "partially_succeeded"),
        (NotificationEvent.QUEUED, "pending"),
    ]
    link = f"https://portal.test/monitoring/#/tenants/{notify.harness.tenant_id}/runs/{run_id}"
    assert all(n.link == link and n.run_id == run_id for n in items)
    assert notify.inbox.list(notify.bob.id, unread_only=False, limit=10)[0] == []
    # Email and Teams are for terminal events by default: one each.
    [mail] = notify.mails()
    assert mail.sender == SENDER
    assert mail.message["toRecipients"][0]["emailAddress"]["address"] == notify.alice.email
    parts = mail.message["mimeParts"]
    assert link in parts["text/plain"] and f'href="{link}"' in parts["text/html"]
    assert "partially succeeded" in mail.message["subject"]
    assert "noop_item_failed" in parts["text/plain"]
    [card] = notify.cards()
    content = card.body["attachments"][0]["content"]
    assert content["actions"][0]["url"] == link
    assert content["msteams"]["entities"][0]["mentioned"]["id"] == notify.alice.email
    # One webhook serves every tenant: the card counts failures but never quotes them.
    posted = json.dumps(card.body)
    assert "noop_item_failed" not in posted and "1 failure(s)" in posted


def test_a_deduplicated_start_notifies_nobody_new(notify: Notify) -> None:
    notify.harness.start(inputs={"items": 1}, who=notify.alice)
    notify.harness.start(inputs={"items": 1}, who=notify.bob)  # same identity: Alice's run back
    notify.drain()
    assert len(notify.inbox.list(notify.alice.id, unread_only=False, limit=10)[0]) == 1
    assert notify.inbox.list(notify.bob.id, unread_only=False, limit=10)[0] == []


def test_app_only_and_timer_initiated_runs_notify_nobody(notify: Notify) -> None:
    robot = Initiator(id="app-1", name="Automation", kind="app")
    _finish(notify, who=robot)
    assert notify.drain() == 0
    assert notify.mails() == [] and notify.cards() == []


def test_duplicate_delivery_gives_one_email_one_card_one_in_app(notify: Notify) -> None:
    _finish(notify)
    messages = list(notify.queue.receive_messages(max_messages=32, visibility_timeout=30))
    for message in messages * 3:  # every message delivered three times
        notify.worker.process(message.content)
    assert len(notify.mails()) == 1 and len(notify.cards()) == 1
    assert len(notify.inbox.list(notify.alice.id, unread_only=False, limit=10)[0]) == 2


def test_a_crash_between_send_and_record_does_not_send_again(notify: Notify) -> None:
    run_id = _finish(notify)
    # The worker claimed email, sent, and died before recording: the claim is left.
    now = notify.harness.clock()
    claim = notify.ledger.claim(run_id, NotificationEvent.COMPLETED, Channel.EMAIL, now)
    assert claim.result is ClaimResult.ACQUIRED
    notify.harness.clock.advance(minutes=6)  # its lease runs out
    notify.drain()
    assert notify.mails() == []  # not re-sent
    assert notify.ledger.state(run_id, NotificationEvent.COMPLETED, Channel.EMAIL) == "unknown"
    [completed] = [
        n
        for n in notify.inbox.list(notify.alice.id, unread_only=False, limit=5)[0]
        if n.event is NotificationEvent.COMPLETED
    ]
    assert completed.delivery_problems == ("email: delivery unknown (interrupted)",)
    assert len(notify.cards()) == 1  # the other channel is unaffected


def test_an_outage_is_retried_through_the_queue_then_recovers(notify: Notify) -> None:
    # Graph and the webhook throttle before processing (429 is "not processed"): safe to
    # try again. (A 5xx may follow a send: see the in-doubt tests.)
    notify.cloud.faults.throttle(count=None, retry_after=0, route="/v1.0/users/*")
    notify.cloud.faults.throttle(count=None, retry_after=0, route="/teams/*")
    _finish(notify)
    notify.drain(limit=2)  # first attempt of each channel fails
    assert notify.mails() == [] and notify.cards() == []
    notify.cloud.faults.clear()
    notify.drain()
    assert len(notify.mails()) == 1 and len(notify.cards()) == 1


def test_a_card_posted_then_answered_504_is_posted_once_and_marked_unknown(
    notify: Notify,
) -> None:
    # The webhook has no idempotency key: a 5xx after the card went must not post it again.
    notify.cloud.faults.after_processing(status=504, count=None, route="/teams/*")
    run_id = _finish(notify)
    notify.drain()
    notify.cloud.faults.clear()
    notify.harness.clock.advance(minutes=10)
    notify.drain()
    assert len(notify.cards()) == 1
    assert notify.ledger.state(run_id, NotificationEvent.COMPLETED, Channel.TEAMS) == "unknown"
    [completed] = [
        n
        for n in notify.inbox.list(notify.alice.id, unread_only=False, limit=5)[0]
        if n.event is NotificationEvent.COMPLETED
    ]
    assert any(p.startswith("teams: delivery unknown") for p in completed.delivery_problems)


def _email_state(notify: Notify, run_id: str) -> str | None:
    return notify.ledger.state(run_id, NotificationEvent.COMPLETED, Channel.EMAIL)


def test_a_mail_sent_then_answered_504_is_sent_once_and_marked_unknown(notify: Notify) -> None:
    # The mail goes out, then the gateway loses the answer: sending again would be twice.
    rule = notify.cloud.faults.after_processing(status=504, route="/v1.0/users/*/sendMail")
    run_id = _finish(notify)
    notify.drain()
    assert rule.hits == 1 and len(notify.mails()) == 1  # sent once, never resent
    assert _email_state(notify, run_id) == "unknown"
    items, _ = notify.inbox.list(notify.alice.id, unread_only=False, limit=5)
    completed = next(n for n in items if n.event is NotificationEvent.COMPLETED)
    [problem] = completed.delivery_problems
    assert problem.startswith("email: delivery unknown") and "504" in problem
    assert len(notify.cards()) == 1  # Teams is a separate channel and went out


def test_a_mail_refused_with_5xx_before_sending_is_not_resent_blindly(notify: Notify) -> None:
    # From the client's side a 503 looks the same whether or not the mail went out.
    notify.cloud.faults.server_error(status=503, count=None, route="/v1.0/users/*")
    before = notify.cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/users/")
    run_id = _finish(notify)
    notify.drain()
    sends = notify.cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/users/") - before
    assert sends == 1 and notify.mails() == []
    assert _email_state(notify, run_id) == "unknown"


def test_after_the_last_attempt_the_failure_is_shown_to_the_user(notify: Notify) -> None:
    notify.cloud.faults.throttle(count=None, retry_after=0, route="/teams/*")
    run_id = _finish(notify)
    notify.drain()
    assert notify.cards() == [] and len(notify.mails()) == 1
    assert notify.ledger.state(run_id, NotificationEvent.COMPLETED, Channel.TEAMS) == "failed"
    items, _ = notify.inbox.list(notify.alice.id, unread_only=False, limit=5)
    completed = next(n for n in items if n.event is NotificationEvent.COMPLETED)
    assert completed.delivery_problems == ("teams: Teams webhook answered 429",)
    deliveries = notify.harness.storage.table("NotificationDeliveries").get_entity(
        run_id, "completed~teams"
    )
    assert deliveries["Attempts"] == MAX_ATTEMPTS


def test_preferences_are_honoured(notify: Notify) -> None:
    notify.preferences.save(notify.alice.id, ChannelPlan.parse("email", "teams"))
    _finish(notify)
    notify.drain()
    assert notify.inbox.list(notify.alice.id, unread_only=False, limit=5)[0] == []
    [queued_mail] = notify.mails()
    assert "queued" in queued_mail.message["subject"]
    assert len(notify.cards()) == 1


def test_hostile_strings_are_escaped_in_email_and_card(notify: Notify) -> None:
    notify.harness.storage.table("Tenants").upsert_entity(
        {"PartitionKey": "tenant", "RowKey": notify.harness.tenant_id, "Name": HOSTILE}
    )
    hostile_user = Initiator(id="u-h", name=HOSTILE, email="h@x.test")
    _finish(notify, {"items": 1, "fail_items": [0], "label": HOSTILE}, who=hostile_user)
    notify.drain()
    html = notify.mails()[0].message["mimeParts"]["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    card = json.dumps(notify.cards()[0].body)
    assert "<script>" not in card and "<at>Everyone</at>" not in card
    assert "\\\\*\\\\*bold\\\\*\\\\*" in card  # Markdown neutralised


def test_read_marks_and_unread_filter(notify: Notify) -> None:
    _finish(notify)
    notify.drain()
    items, _ = notify.inbox.list(notify.alice.id, unread_only=True, limit=10)
    assert len(items) == 2
    read = notify.inbox.mark_read(notify.alice.id, items[0].id, notify.harness.clock())
    assert read.read_at is not None
    assert notify.inbox.mark_read(notify.alice.id, items[0].id, notify.harness.clock()).read_at
    unread, _ = notify.inbox.list(notify.alice.id, unread_only=True, limit=10)
    assert [n.id for n in unread] == [items[1].id]
    page, after = notify.inbox.list(notify.alice.id, unread_only=False, limit=1)
    rest, end = notify.inbox.list(notify.alice.id, unread_only=False, limit=1, after=after)
    assert [page[0].id, rest[0].id] == [items[0].id, items[1].id] and end is None


def test_a_failed_dispatch_announces_the_failure_but_never_queued(
    notify: Notify, unique_name: str
) -> None:
    from shared.errors import DispatchFailed
    from tests.integration.conftest import make_service

    broken = make_service(
        notify.harness.store,
        notify.harness.storage.queue(unique_name + "missing"),  # no such queue: send fails
        notify.harness.registry,
        notify.harness.clock,
    )
    broken._outbox = notify.harness.service._outbox
    run, _ = broken.ensure_run(notify.harness.tenant_id, "diagnostics.noop", {}, notify.alice)
    try:
        broken.dispatch_or_fail(run)
    except DispatchFailed:
        pass
    else:
        raise AssertionError("dispatch should have failed")
    assert notify.drain() == 1  # the completed notice; the queued one waits in the outbox
    # The reaper's sweep hands the queued notice on; the worker drops it (never queued)
    # and marks it handled.
    notify.harness.clock.advance(minutes=5)
    assert notify.harness.service.reap([notify.harness.tenant_id]).notices_swept == 1
    assert notify.drain() == 1
    assert notify.harness.store.outbox(notify.harness.tenant_id) == []
    items, _ = notify.inbox.list(notify.alice.id, unread_only=False, limit=10)
    assert [(n.event, n.outcome) for n in items] == [(NotificationEvent.COMPLETED, "failed")]
    [mail] = notify.mails()
    assert "dispatch_failed" in mail.message["mimeParts"]["text/plain"]
