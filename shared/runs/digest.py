"""A tenant's overview digest: the few run facts its overview row can depend on, kept so
the row can be evaluated at any later time without reading the tenant's partition again.

Pure. A recompute reads the tenant's recent runs (shared.runs.recent, exactly as the live
overview does) and keeps only:

- every active run (queued or running: the counts now, "queued too long", the oldest);
- every failed run that ended within 24 h of the read ("failed in the last 24 h");
- the newest succeeded run of each type (its last success);
- the newest run of each type (whether the tenant uses the type: "overdue" applies).

Evaluated at `now` >= the read, with no run written since, `overview_of(evaluate(...))`
answers exactly what the live overview would: a window that rolls (a failure older than
24 h, a run queued past the threshold, a type past its expected interval, a run leaving
the 7-day window) is decided at read time from these facts, not stored as a verdict.
Anything written since the read is what the recompute hooks and the sweep catch up on.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.runs.glance import RecentRuns, RunFacts
from shared.runs.model import RunOutcome, RunStatus

FAILED_LOOKBACK = timedelta(hours=24)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FORMAT = 1


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class Digest:
    """The facts kept for one tenant, as of the read they came from."""

    recent: RecentRuns
    as_of: datetime


def _ended(run: RunFacts) -> datetime:
    return run.completed_at or run.created_at


def digest_of(recent: RecentRuns, *, as_of: datetime) -> Digest:
    """Keep the runs that can still matter to the overview at or after `as_of`."""
    failed_since = as_of - FAILED_LOOKBACK
    newest: set[str] = set()
    succeeded: set[str] = set()
    kept: list[RunFacts] = []
    for run in recent.runs:  # newest first
        keep = run.status is not RunStatus.COMPLETED
        keep |= run.outcome is RunOutcome.FAILED and _ended(run) >= failed_since
        if run.type not in newest:
            newest.add(run.type)
            keep = True
        if run.outcome is RunOutcome.SUCCEEDED and run.type not in succeeded:
            succeeded.add(run.type)
            keep = True
        if keep:
            kept.append(dataclasses.replace(run, started_at=None))  # the overview never reads it
    kept_recent = RecentRuns(
        recent.tenant_id, recent.since, tuple(kept), recent.active_locks, recent.complete
    )
    return Digest(kept_recent, as_of)


def evaluate(digest: Digest, *, now: datetime, window: timedelta) -> RecentRuns:
    """The digest's runs as the live read at `now` would return them (created within
    `window` of `now`), ready for shared.runs.glance.overview_of."""
    since = max(now - window, digest.recent.since)
    runs = tuple(r for r in digest.recent.runs if r.created_at >= since)
    recent = digest.recent
    return RecentRuns(recent.tenant_id, since, runs, recent.active_locks, recent.complete)


def encode(digest: Digest) -> str:
    """Compact JSON: a type table and one short array per run (ids kept, inputs never)."""
    recent = digest.recent
    types = list(dict.fromkeys(r.type for r in recent.runs))
    index = {t: i for i, t in enumerate(types)}

    def row(run: RunFacts) -> list[Any]:
        completed = _micros(run.completed_at) if run.completed_at else None
        return [
            run.run_id,
            index[run.type],
            run.status.value,
            run.outcome.value,
            _micros(run.created_at),
            completed,
        ]

    body = {
        "v": _FORMAT,
        "as_of": _micros(digest.as_of),
        "since": _micros(recent.since),
        "locks": recent.active_locks,
        "complete": recent.complete,
        "types": types,
        "runs": [row(r) for r in recent.runs],
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class DigestUnreadable(ValueError):
    """A stored digest this code cannot read (another format): recompute it."""


def decode(tenant_id: str, text: str) -> Digest:
    try:
        body = json.loads(text)
        if body.get("v") != _FORMAT:
            raise DigestUnreadable(f"digest format {body.get('v')!r}")
        types: Sequence[str] = body["types"]
        runs = tuple(
            RunFacts(
                run_id=str(run_id),
                type=types[type_index],
                status=RunStatus(status),
                outcome=RunOutcome(outcome),
                created_at=_at(created),
                completed_at=_at(completed) if completed is not None else None,
            )
            for run_id, type_index, status, outcome, created, completed in body["runs"]
        )
        recent = RecentRuns(
            tenant_id, _at(body["since"]), runs, int(body["locks"]), bool(body["complete"])
        )
        as_of = _at(body["as_of"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise DigestUnreadable(str(error)) from error
    return Digest(recent, as_of)
