"""The notifications queue's wire: one notice, or a batch of at most the relay's cap."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared.notifications.message import (
    MAX_NOTICES_PER_BATCH,
    NotificationEvent,
    NotificationMessage,
    parse_notification_body,
)
from shared.runs.relay import MAX_NOTICES_PER_MESSAGE

ONE = {"v": 1, "event": "queued", "run_id": "r1", "tenant_id": "t1"}


def test_a_single_message_is_one_notice() -> None:
    [notice] = parse_notification_body(json.dumps(ONE))
    assert notice == NotificationMessage(
        event=NotificationEvent.QUEUED, run_id="r1", tenant_id="t1"
    )


def test_a_batch_is_its_notices_in_order() -> None:
    second = {**ONE, "run_id": "r2", "event": "completed"}
    notices = parse_notification_body(json.dumps({"v": 1, "notices": [ONE, second]}))
    assert [(n.run_id, n.event) for n in notices] == [
        ("r1", NotificationEvent.QUEUED),
        ("r2", NotificationEvent.COMPLETED),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"v": 1, "notices": []},
        {"v": 1, "notices": [ONE] * (MAX_NOTICES_PER_BATCH + 1)},
        {"v": 1, "notices": [{**ONE, "event": "exploded"}]},
        {"v": 2, "notices": [ONE]},
        {"v": 1, "run_id": "r1"},
    ],
)
def test_anything_else_is_unreadable(body: object) -> None:
    with pytest.raises(ValidationError):
        parse_notification_body(json.dumps(body))


def test_the_relay_never_sends_more_than_a_batch_may_hold() -> None:
    assert MAX_NOTICES_PER_MESSAGE <= MAX_NOTICES_PER_BATCH
