"""What the run keeps for its timeline: every claim's time (bounded) and the cancel request."""

from datetime import timedelta

from shared.runs import model
from shared.runs.rows import run_from_entity, run_to_entity
from tests.unit.test_model import LEASE, NOW
from tests.unit.test_model import queued as queued_run


def queued() -> model.Run:
    return queued_run(input_summary="nightly · 3 items")


def test_each_claim_is_remembered_newest_twenty_only() -> None:
    run = queued()
    for n in range(25):  # each reclaim after the previous lease ran out (issue 11)
        run = model.claim(run, now=NOW + LEASE * n, lease=LEASE)
    assert run.attempt == 25 and len(run.claims) == model.MAX_CLAIMS_KEPT
    assert run.claims[0] == NOW + LEASE * 5 and run.claims[-1] == run.updated_at


def test_the_first_cancel_request_time_is_kept() -> None:
    running = model.claim(queued(), now=NOW, lease=LEASE)
    asked = model.request_cancel(running, now=NOW + timedelta(seconds=5))
    again = model.request_cancel(asked, now=NOW + timedelta(seconds=9))
    assert again.cancel_requested_at == NOW + timedelta(seconds=5)


def test_claims_summary_and_cancel_time_survive_the_row() -> None:
    run = model.claim(queued(), now=NOW, lease=LEASE)
    run = model.request_cancel(model.claim(run, now=NOW + LEASE, lease=LEASE), now=NOW + LEASE)
    entity = run_to_entity(run)
    back = run_from_entity({**entity, "RowKey": entity["RowKey"]})
    assert back.claims == run.claims and back.cancel_requested_at == NOW + LEASE
    assert back.input_summary == "nightly · 3 items"
