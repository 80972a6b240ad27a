from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import InvalidTransition
from shared.runs import model
from shared.runs.model import Failure, Initiator, RunOutcome, RunStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def queued(input_summary: str = "") -> model.Run:
    return model.new_run(
        run_id="01J0000000000000000000000A",
        tenant_id="t",
        run_type="x",
        inputs={},
        identity_hash="h",
        initiator=Initiator(id="u", name="U"),
        now=NOW,
        input_summary=input_summary,
    )


def test_new_run_is_queued_and_pending_with_zero_counts() -> None:
    run = queued()
    assert (run.status, run.outcome) == (RunStatus.QUEUED, RunOutcome.PENDING)
    assert run.summary_counts == dict.fromkeys(model.STANDARD_COUNTS, 0)
    assert run.is_active and not run.is_terminal


def test_claim_starts_attempt_one_with_a_lease_and_reclaim_counts_up() -> None:
    run = model.claim(queued(), now=NOW, lease=LEASE)
    assert run.status is RunStatus.RUNNING and run.attempt == 1
    assert run.started_at == NOW and run.lease_expires_at == NOW + LEASE
    later = NOW + timedelta(minutes=20)
    again = model.claim(run, now=later, lease=LEASE)
    assert (
        again.attempt == 2 and again.started_at == NOW and again.lease_expires_at == later + LEASE
    )


def test_completed_runs_do_not_move() -> None:
    done = model.finish(queued(), outcome=RunOutcome.CANCELLED, now=NOW)
    assert done.status is RunStatus.COMPLETED and done.completed_at == NOW
    with pytest.raises(InvalidTransition):
        model.claim(done, now=NOW, lease=LEASE)
    with pytest.raises(InvalidTransition):
        model.finish(done, outcome=RunOutcome.FAILED, now=NOW)
    with pytest.raises(InvalidTransition):
        model.request_cancel(done, now=NOW)


def test_finish_needs_a_final_outcome_and_appends_failures() -> None:
    with pytest.raises(ValueError):
        model.finish(queued(), outcome=RunOutcome.PENDING, now=NOW)
    first = Failure(code="a", message="one")
    running = model.claim(queued(), now=NOW, lease=LEASE)
    done = model.finish(running, outcome=RunOutcome.FAILED, now=NOW, failures=(first,))
    assert done.failures == (first,) and done.lease_expires_at is None


def test_cancel_request_only_for_running_runs() -> None:
    with pytest.raises(InvalidTransition):
        model.request_cancel(queued(), now=NOW)
    running = model.claim(queued(), now=NOW, lease=LEASE)
    assert model.request_cancel(running, now=NOW).cancel_requested


def test_transition_table_is_exactly_the_documented_one() -> None:
    assert model.ALLOWED_TRANSITIONS == {
        (RunStatus.QUEUED, RunStatus.RUNNING),
        (RunStatus.QUEUED, RunStatus.COMPLETED),
        (RunStatus.RUNNING, RunStatus.RUNNING),
        (RunStatus.RUNNING, RunStatus.COMPLETED),
    }


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        ({}, RunOutcome.SUCCEEDED),
        ({"succeeded": 5, "failed": 0, "skipped": 2}, RunOutcome.SUCCEEDED),
        ({"succeeded": 4, "failed": 1}, RunOutcome.PARTIALLY_SUCCEEDED),
        ({"succeeded": 0, "failed": 3}, RunOutcome.FAILED),
        ({"succeeded": 0, "failed": 1, "skipped": 4}, RunOutcome.FAILED),
    ],
)
def test_outcome_rule(counts: dict[str, int], outcome: RunOutcome) -> None:
    assert model.outcome_from_counts(counts) is outcome


def test_staleness_rules() -> None:
    run = queued()
    assert not model.is_stale_queued(
        run, now=NOW + timedelta(minutes=59), max_age=timedelta(hours=1)
    )
    assert model.is_stale_queued(run, now=NOW + timedelta(minutes=61), max_age=timedelta(hours=1))
    running = model.claim(run, now=NOW, lease=LEASE)
    assert not model.is_lease_expired(running, now=NOW + LEASE - timedelta(seconds=1))
    assert model.is_lease_expired(running, now=NOW + LEASE + timedelta(seconds=1))
    assert not model.is_stale_queued(running, now=NOW + timedelta(days=1), max_age=LEASE)
