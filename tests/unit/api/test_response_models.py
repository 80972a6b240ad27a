"""Bodies are built from the response models: the wire format they write (times, nulls,
omitted fields, aliases) and the check that a route answers with the model its table
entry names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from functions._routes import checked
from shared.api import response_models
from shared.api.me import _notification
from shared.api.present import ApiResponse, error_body, run_detail, run_page
from shared.api.reads import run_types
from shared.api.routes import ROUTES
from shared.errors import InputInvalid, NotFound
from shared.notifications.inbox import Notification
from shared.notifications.message import NotificationEvent
from shared.run_types.declarations import declared
from shared.runs.links import Links
from shared.runs.model import Failure, Initiator, Run, RunOutcome, claim, finish, new_run

NOW = datetime(2025, 3, 1, 12, 0, 0, 987654, tzinfo=UTC)
LINKS = Links("https://api.example.test/")
TENANT = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _wire(body: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body.model_dump_json())
    return parsed


def _run(now: datetime = NOW, kind: str = "user") -> Run:
    return new_run(
        run_id="01JN0000000000000000000000",
        tenant_id=TENANT,
        run_type="diagnostics.noop",
        inputs={"label": "x", "items": 2},
        identity_hash="h" * 64,
        initiator=Initiator(id="u1", name="Ursula", email=None, kind=kind),
        now=now,
    )


def _finished() -> Run:
    running = claim(_run(), now=NOW + timedelta(seconds=1), lease=timedelta(minutes=5))
    return finish(
        running,
        outcome=RunOutcome.PARTIALLY_SUCCEEDED,
        now=NOW + timedelta(seconds=9),
        counts={"total": 2, "processed": 2, "succeeded": 1, "failed": 1, "skipped": 0},
        failures=(Failure("item_failed", "no", item="1", attempt=1, at=None),),
        result={"label": "x"},
    )


def test_run_times_are_utc_milliseconds_with_z_and_nulls_stay() -> None:
    body = _wire(run_detail(_run(), LINKS))
    assert body["created_at"] == "2025-03-01T12:00:00.987Z"  # cut, not rounded
    assert body["started_at"] is None and body["completed_at"] is None
    assert body["lease_expires_at"] is None and body["result"] is None
    assert body["initiator"]["email"] is None


@pytest.mark.parametrize(
    "when",
    [
        NOW.replace(tzinfo=None),  # naive times are UTC
        NOW.astimezone(timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_any_time_goes_out_in_utc(when: datetime) -> None:
    assert _wire(run_detail(_run(when), LINKS))["created_at"] == "2025-03-01T12:00:00.987Z"


def test_the_detail_writes_failures_claims_and_the_self_link() -> None:
    body = _wire(run_detail(_finished(), LINKS))
    assert body["failures"] == [
        {"code": "item_failed", "message": "no", "item": "1", "attempt": 1, "at": None}
    ]
    assert body["claims"] == [{"attempt": 1, "at": "2025-03-01T12:00:01.987Z"}]
    assert body["links"]["self"] == f"https://api.example.test/api/tenants/{TENANT}/operations/" + (
        "01JN0000000000000000000000"
    )


def test_a_page_holds_summaries_the_detail_begins_with() -> None:
    run = _finished()
    page = _wire(run_page([run], LINKS, "next"))
    assert page["next_cursor"] == "next"
    [summary] = page["items"]
    assert not {"inputs", "failures", "result"} & set(summary)
    detail = _wire(run_detail(run, LINKS))
    assert list(detail)[: len(summary)] == list(summary)
    assert {k: detail[k] for k in summary} == summary


def test_a_field_the_model_does_not_have_is_refused() -> None:
    with pytest.raises(ValidationError):
        response_models.RunClaim.model_validate({"attempt": 1, "at": NOW, "etag": "W/1"})


def test_error_details_are_absent_not_null_when_there_are_none() -> None:
    assert _wire(error_body(NotFound("no such run"))) == {
        "error": {"code": "not_found", "message": "no such run"}
    }
    with_details = _wire(error_body(InputInvalid("bad", details=[{"field": "x", "message": "m"}])))
    assert with_details["error"]["details"] == [{"field": "x", "message": "m"}]


def test_notification_times_are_utc_milliseconds_like_every_other_time() -> None:
    note = Notification(
        id="01JN0000000000000000000000.queued",
        user_id="u1",
        run_id="01JN0000000000000000000000",
        tenant_id="t",
        event=NotificationEvent.QUEUED,
        outcome="pending",
        title="Queued",
        body="b",
        link="https://x/monitoring/",
        created_at=NOW,
    )
    body = _wire(response_models.NotificationOut.model_validate(_notification(note)))
    assert body["created_at"] == "2025-03-01T12:00:00.987Z" and body["read_at"] is None
    whole = Notification(**{**note.__dict__, "created_at": NOW.replace(microsecond=0)})
    body = _wire(response_models.NotificationOut.model_validate(_notification(whole)))
    assert body["created_at"] == "2025-03-01T12:00:00.000Z"  # the same shape for any value


def test_the_queue_measurement_is_utc_milliseconds() -> None:
    queue = response_models.WorkQueue(
        queue="q",
        depth=1,
        oldest_age_seconds=2,
        poison=0,
        measured_at=NOW,
        behind=False,
        stale=False,
    )
    assert _wire(queue)["measured_at"] == "2025-03-01T12:00:00.987Z"


def test_the_catalogue_is_the_declarations() -> None:
    body = _wire(run_types(declared(include_diagnostics=True)).body)
    assert [e["type"] for e in body["items"]] == [
        "backup.capture",
        "diagnostics.noop",
        "directory_groups.sync",
        "policy.sync",
        "restore.execute",
    ]
    assert body["items"][1]["inputs_schema"]["properties"]["items"]["maximum"] == 1000


def _route(operation_id: str) -> Any:
    return next(op for op in ROUTES if op.operation_id == operation_id)


def test_a_route_answers_with_the_model_its_table_entry_names() -> None:
    answer = ApiResponse(run_page([], LINKS, None))
    assert checked(_route("listRuns"), answer) is answer
    with pytest.raises(TypeError, match="listRuns answered 200 with RunDetail"):
        checked(_route("listRuns"), ApiResponse(run_detail(_run(), LINKS)))
    with pytest.raises(TypeError):  # a dict beside the model
        checked(_route("listRuns"), ApiResponse({"items": [], "next_cursor": None}))
    with pytest.raises(TypeError):  # a status the table does not list
        checked(_route("listRuns"), ApiResponse(run_page([], LINKS, None), 201))
    # The 503 of a start may be either of its models.
    failed = response_models.DispatchFailedBody(
        error=error_body(NotFound("x")).error, run=run_detail(_run(), LINKS), view_url="v"
    )
    checked(_route("startRun"), ApiResponse(failed, 503))
    checked(_route("startRun"), ApiResponse(error_body(NotFound("x")), 503))
