"""The operation-run lifecycle: a pure model with no storage, queue or clock of its own.

Statuses move queued -> running -> completed (or queued -> completed for a cancel or a
dispatch failure). A run's outcome is `pending` until it completes and final after that.
Every function here returns a new Run; the store persists it with an ETag
compare-and-swap, the service decides what to do when that swap loses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.errors import InvalidTransition


class RunStatus(StrEnum):
    """Where a run is in its life."""

    QUEUED = "queued"
    """Created and dispatched; no worker has claimed it yet."""
    RUNNING = "running"
    """A worker holds a lease on it and is doing the work."""
    COMPLETED = "completed"
    """Finished; `outcome` says how. Nothing changes a completed run."""


class RunOutcome(StrEnum):
    """How a run ended. `pending` while it has not."""

    PENDING = "pending"
    """Not finished yet."""
    SUCCEEDED = "succeeded"
    """Every item succeeded (or was skipped on purpose)."""
    PARTIALLY_SUCCEEDED = "partially_succeeded"
    """Some items failed, some succeeded."""
    FAILED = "failed"
    """Every attempted item failed, or the run itself failed."""
    CANCELLED = "cancelled"
    """Stopped on request before it finished."""


ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
TERMINAL_OUTCOMES = frozenset(
    {
        RunOutcome.SUCCEEDED,
        RunOutcome.PARTIALLY_SUCCEEDED,
        RunOutcome.FAILED,
        RunOutcome.CANCELLED,
    }
)

# The whole state machine. running -> running is a reclaim after a crash or timeout.
ALLOWED_TRANSITIONS: frozenset[tuple[RunStatus, RunStatus]] = frozenset(
    {
        (RunStatus.QUEUED, RunStatus.RUNNING),
        (RunStatus.QUEUED, RunStatus.COMPLETED),
        (RunStatus.RUNNING, RunStatus.RUNNING),
        (RunStatus.RUNNING, RunStatus.COMPLETED),
    }
)

MAX_CLAIMS_KEPT = 20

# Counters every run has; a run type may add its own keys.
STANDARD_COUNTS = ("total", "processed", "succeeded", "failed", "skipped")


class FailureCode(StrEnum):
    """Failure codes the run machinery itself records (handlers add their own)."""

    DISPATCH_FAILED = "dispatch_failed"
    DISPATCH_LOST = "dispatch_lost"
    """Queued, re-sent the allowed number of times, and still no worker ever saw it."""
    STALE_QUEUED = "stale_queued"
    LEASE_EXPIRED = "lease_expired"
    POISON = "poison_message"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNHANDLED_ERROR = "unhandled_error"


@dataclass(frozen=True)
class Initiator:
    """Who asked for the run. `kind` is `user` for a person, `app` or `system` otherwise."""

    id: str
    name: str
    email: str | None = None
    kind: str = "user"

    @property
    def is_human(self) -> bool:
        return self.kind == "user"


@dataclass(frozen=True)
class Failure:
    """One failure recorded on a run: a code a machine can match and a sanitized message."""

    code: str
    message: str
    item: str | None = None
    attempt: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Run:
    id: str
    tenant_id: str
    type: str
    status: RunStatus
    outcome: RunOutcome
    initiator: Initiator
    inputs: dict[str, Any]
    identity_hash: str
    created_at: datetime
    updated_at: datetime
    summary_counts: dict[str, int] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()
    result: dict[str, Any] | None = None
    attempt: int = 0
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    started_at: datetime | None = None
    completed_at: datetime | None = None
    # The run type's one-line summary of the inputs (shared.runs.run_type).
    input_summary: str = ""
    # When each claim happened (attempt n is claims[n-1]), for the run's timeline; the
    # newest MAX_CLAIMS_KEPT only, so a run redelivered many times stays small.
    claims: tuple[datetime, ...] = ()
    cancel_requested_at: datetime | None = None
    # When the work message was last sent, how many sends so far, and the token of the
    # message whose delivery holds the run (a delivery carrying another token while the
    # lease is live is a duplicate).
    dispatched_at: datetime | None = None
    dispatch_count: int = 0
    claim_token: str | None = None
    # The row's ETag as last read or written; None for a run not yet stored.
    etag: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self.status is RunStatus.COMPLETED


def new_run(
    *,
    run_id: str,
    tenant_id: str,
    run_type: str,
    inputs: dict[str, Any],
    identity_hash: str,
    initiator: Initiator,
    now: datetime,
    input_summary: str = "",
) -> Run:
    return Run(
        id=run_id,
        tenant_id=tenant_id,
        type=run_type,
        status=RunStatus.QUEUED,
        outcome=RunOutcome.PENDING,
        initiator=initiator,
        inputs=inputs,
        identity_hash=identity_hash,
        created_at=now,
        updated_at=now,
        summary_counts={name: 0 for name in STANDARD_COUNTS},
        input_summary=input_summary,
        # The send follows the commit; if it never happens, this is how old the loss is.
        dispatched_at=now,
        dispatch_count=1,
    )


def _check(run: Run, target: RunStatus) -> None:
    if (run.status, target) not in ALLOWED_TRANSITIONS:
        raise InvalidTransition(
            f"run {run.id} is {run.status.value}; it cannot become {target.value}",
            details={"status": run.status.value, "outcome": run.outcome.value},
        )


def claim(run: Run, *, now: datetime, lease: timedelta, token: str | None = None) -> Run:
    """A worker takes the run: first claim or a reclaim after a crash; attempt counts up.

    Never over a live lease: one executor per run, whatever the delivery count.
    """
    _check(run, RunStatus.RUNNING)
    if is_lease_live(run, now=now):
        raise InvalidTransition(f"run {run.id} is held by attempt {run.attempt}")
    return dataclasses.replace(
        run,
        status=RunStatus.RUNNING,
        attempt=run.attempt + 1,
        claims=(*run.claims, now)[-MAX_CLAIMS_KEPT:],
        started_at=run.started_at or now,
        lease_expires_at=now + lease,
        claim_token=token,
        updated_at=now,
    )


def renew_lease(run: Run, *, now: datetime, lease: timedelta) -> Run:
    """The heartbeat of the attempt holding the run."""
    if run.status is not RunStatus.RUNNING:
        raise InvalidTransition(f"run {run.id} is {run.status.value}; only a running run renews")
    return dataclasses.replace(run, lease_expires_at=now + lease, updated_at=now)


def release_lease(run: Run, *, now: datetime) -> Run:
    """An attempt giving up (to be retried) ends its lease so the next delivery may claim."""
    if run.status is not RunStatus.RUNNING:
        raise InvalidTransition(f"run {run.id} is {run.status.value}; only a running run releases")
    return dataclasses.replace(run, lease_expires_at=now, updated_at=now)


def redispatch(run: Run, *, now: datetime) -> Run:
    """Record another send of the work message of a queued run (its first may be lost)."""
    if run.status is not RunStatus.QUEUED:
        raise InvalidTransition(f"run {run.id} is {run.status.value}; only a queued run is re-sent")
    return dataclasses.replace(
        run, dispatched_at=now, dispatch_count=run.dispatch_count + 1, updated_at=now
    )


def dispatch_age(run: Run, *, now: datetime) -> timedelta:
    return now - (run.dispatched_at or run.created_at)


def needs_redispatch(run: Run, *, now: datetime, after: timedelta) -> bool:
    """Queued, and its last send is older than `after`: the message may never have left."""
    return run.status is RunStatus.QUEUED and dispatch_age(run, now=now) > after


def record_progress(run: Run, *, counts: dict[str, int], now: datetime, lease: timedelta) -> Run:
    """Progress from the worker holding the run; each report also extends its lease."""
    if run.status is not RunStatus.RUNNING:
        raise InvalidTransition(f"run {run.id} is {run.status.value}; progress needs running")
    return dataclasses.replace(
        run, summary_counts=dict(counts), lease_expires_at=now + lease, updated_at=now
    )


def request_cancel(run: Run, *, now: datetime) -> Run:
    """Ask a running run to stop; the worker honours it between items."""
    if run.status is not RunStatus.RUNNING:
        raise InvalidTransition(f"run {run.id} is {run.status.value}; only a running run is asked")
    return dataclasses.replace(
        run,
        cancel_requested=True,
        cancel_requested_at=run.cancel_requested_at or now,
        updated_at=now,
    )


def finish(
    run: Run,
    *,
    outcome: RunOutcome,
    now: datetime,
    counts: dict[str, int] | None = None,
    failures: tuple[Failure, ...] = (),
    result: dict[str, Any] | None = None,
) -> Run:
    """End the run with a final outcome. Failures are appended to those already recorded."""
    if outcome not in TERMINAL_OUTCOMES:
        raise ValueError(f"{outcome.value} is not a final outcome")
    _check(run, RunStatus.COMPLETED)
    return dataclasses.replace(
        run,
        status=RunStatus.COMPLETED,
        outcome=outcome,
        summary_counts=dict(counts) if counts is not None else run.summary_counts,
        failures=run.failures + failures,
        result=result if result is not None else run.result,
        lease_expires_at=None,
        completed_at=now,
        updated_at=now,
    )


def outcome_from_counts(counts: dict[str, int]) -> RunOutcome:
    """No failed item: succeeded. Some failed, some succeeded: partial. Otherwise failed."""
    failed = counts.get("failed", 0)
    succeeded = counts.get("succeeded", 0)
    if failed == 0:
        return RunOutcome.SUCCEEDED
    if succeeded > 0:
        return RunOutcome.PARTIALLY_SUCCEEDED
    return RunOutcome.FAILED


def is_stale_queued(run: Run, *, now: datetime, max_age: timedelta) -> bool:
    return run.status is RunStatus.QUEUED and now - run.created_at > max_age


def is_lease_expired(run: Run, *, now: datetime) -> bool:
    return (
        run.status is RunStatus.RUNNING
        and run.lease_expires_at is not None
        and run.lease_expires_at <= now
    )


def is_lease_live(run: Run, *, now: datetime) -> bool:
    return run.status is RunStatus.RUNNING and not is_lease_expired(run, now=now)


def is_owned_by(run: Run, attempt: int, *, now: datetime) -> bool:
    """Whether `attempt` still holds the run: running, same attempt, lease not run out."""
    return run.attempt == attempt and is_lease_live(run, now=now)
