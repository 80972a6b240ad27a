"""The response models describe exactly what the dict builders return (no drift): every
builder's output validates against its model, which forbids extra keys, and carries every
key the model names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from shared.api import response_models
from shared.api.present import error_json, run_json, run_summary_json
from shared.api.restore import helper_text
from shared.errors import InputInvalid, NotFound
from shared.notifications.inbox import Notification
from shared.notifications.message import Channel, NotificationEvent
from shared.notifications.preferences import ChannelPlan
from shared.run_types.diagnostics import NOOP
from shared.runs.links import Links
from shared.runs.model import (
    Failure,
    Initiator,
    RunOutcome,
    claim,
    finish,
    new_run,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LINKS = Links("https://api.example.test/")


def _validates(model: type[BaseModel], body: Any) -> BaseModel:
    """As a client sees it: through JSON, every key the model names present."""
    parsed = model.model_validate_json(json.dumps(body))
    if isinstance(body, dict):
        names = {f.alias or name for name, f in model.model_fields.items()}
        optional = {
            f.alias or name for name, f in model.model_fields.items() if not f.is_required()
        }
        assert names - optional <= set(body), f"{model.__name__} misses keys"
        assert set(body) <= names
    return parsed


def _runs() -> list[Any]:
    queued = new_run(
        run_id="01JN0000000000000000000000",
        tenant_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        run_type="diagnostics.noop",
        inputs={"label": "x", "items": 2},
        identity_hash="h" * 64,
        initiator=Initiator(id="u1", name="Ursula", email="u@example.test"),
        now=NOW,
    )
    running = claim(queued, now=NOW + timedelta(seconds=1), lease=timedelta(minutes=5))
    done = finish(
        running,
        outcome=RunOutcome.PARTIALLY_SUCCEEDED,
        now=NOW + timedelta(seconds=9),
        counts={"total": 2, "processed": 2, "succeeded": 1, "failed": 1, "skipped": 0},
        failures=(Failure("item_failed", "no", item="1", attempt=1, at=NOW),),
        result={"label": "x"},
    )
    app = new_run(
        run_id="01JN0000000000000000000001",
        tenant_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        run_type="diagnostics.noop",
        inputs={},
        identity_hash="h" * 64,
        initiator=Initiator(id="a1", name="Automation", kind="app"),
        now=NOW.replace(tzinfo=None),  # naive times are UTC
    )
    return [queued, running, done, app]


@pytest.mark.parametrize("index", range(4))
def test_run_json_is_a_run(index: int) -> None:
    run = _runs()[index]
    parsed = _validates(response_models.RunDetail, run_json(run, LINKS))
    assert isinstance(parsed, response_models.RunDetail)
    assert parsed.links.self_.startswith("https://api.example.test/api/tenants/")


@pytest.mark.parametrize("index", range(4))
def test_run_summary_json_is_a_summary(index: int) -> None:
    body = run_summary_json(_runs()[index], LINKS)
    _validates(response_models.RunSummary, body)
    assert not {"inputs", "failures", "result"} & set(body)


def test_the_summary_is_the_run_less_its_heavy_fields() -> None:
    run = _runs()[2]
    full, summary = run_json(run, LINKS), run_summary_json(run, LINKS)
    assert {k: full[k] for k in summary} == summary
    assert set(response_models.RunDetail.model_fields) > set(
        response_models.RunSummary.model_fields
    )


def test_a_run_with_extra_keys_does_not_validate() -> None:
    body = {**run_json(_runs()[0], LINKS), "etag": "W/1"}
    with pytest.raises(ValueError):
        response_models.RunDetail.model_validate(body)


def test_error_json_is_an_error_body() -> None:
    _validates(response_models.ErrorBody, error_json(NotFound("no such run")))
    with_details = error_json(InputInvalid("bad", details=[{"field": "x", "message": "m"}]))
    assert _validates(response_models.ErrorBody, with_details)


def test_catalogue_entries() -> None:
    _validates(response_models.Catalogue, {"items": [NOOP.catalogue_entry()]})


def test_notification_json() -> None:
    base = Notification(
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
    _validates(response_models.NotificationOut, base.to_json())
    read = Notification(**{**base.__dict__, "read_at": NOW, "delivery_problems": ("email",)})
    _validates(response_models.NotificationPage, {"items": [read.to_json()], "next_cursor": None})


def test_preferences_json() -> None:
    plan = ChannelPlan(frozenset({Channel.IN_APP}), frozenset({Channel.IN_APP, Channel.EMAIL}))
    body = {**plan.to_json(), "customized": False, "available": ["email", "in_app"]}
    _validates(response_models.Preferences, body)


def test_group_mapping_json() -> None:
    body = {
        "backup_set_id": "b1",
        "helper_text": helper_text(False, 0, 0),
        "cache_synced_at": None,
        "sources": [
            {"id": "g1", "display_name": "", "candidates": [{"id": "g2", "display_name": "G"}]}
        ],
    }
    _validates(response_models.GroupMapping, body)
