"""The run flow: ensure_run, dispatch_or_fail, claim, progress, finish, cancel, reap.

Correct under any number of concurrent callers on any number of hosts: the only
synchronisation is Table Storage's conditional writes (insert-if-absent, If-Match).
Every transition acts only on the state it decided on: a lost compare-and-swap means
"look again and decide again", never "write anyway".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.errors import ConcurrentUpdate, DispatchFailed, InvalidTransition, NotFound
from shared.runs import model
from shared.runs.context import RunLost
from shared.runs.dispatch import Dispatcher, RunMessage, new_token
from shared.runs.events import NoEvents, RunEvents
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.listing import DEFAULT_LIMIT, RunFilter, decode_cursor, encode_cursor
from shared.runs.model import Failure, FailureCode, Initiator, Run, RunOutcome
from shared.runs.outbox import Outbox, OutboxEvent
from shared.runs.run_type import Registry
from shared.runs.sanitize import describe_exception, sanitize_message
from shared.runs.store import ActiveLock, LockHeld, RunStorePort

log = logging.getLogger(__name__)

# How often one call retries a compare-and-swap it lost before giving up.
MAX_CAS_ATTEMPTS = 8

# The reaper's one action that does not end the run.
_REDISPATCH = "redispatch"


def utcnow() -> datetime:
    return datetime.now(UTC)


class StateChanged(Exception):  # a signal, not an error
    """The run is no longer in the state the caller decided on; it must decide again."""

    def __init__(self, run: Run) -> None:
        super().__init__(run.id)
        self.run = run


@dataclass(frozen=True)
class DispatchPolicy:
    """Recovering work messages that never left (or were lost)."""

    redispatch_after: timedelta = timedelta(seconds=10)
    """A deduplicated start re-sends the message of a queued run whose last send is older."""
    lost_after: timedelta = timedelta(seconds=60)
    """The reaper re-sends for a queued run whose last send is older than this ..."""
    max_redispatches: int = 3
    """... this many times, then fails it as `dispatch_lost`."""


class ClaimVerdict(StrEnum):
    CLAIMED = "claimed"
    """This delivery holds the run now."""
    DROP = "drop"
    """Nothing to do: unknown run, or a duplicate of a send while another holds the run."""
    FINISHED = "finished"
    """The run has ended; make sure its notices were handed on, then drop."""
    WAIT = "wait"
    """The run is held under a live lease by this very send: come back when it ends."""


@dataclass(frozen=True)
class Claim:
    verdict: ClaimVerdict
    run: Run | None = None
    wait: timedelta = timedelta(0)


@dataclass
class ReapReport:
    tenants: int = 0
    locks_seen: int = 0
    stale_queued: list[str] = field(default_factory=list)
    lease_expired: list[str] = field(default_factory=list)
    dispatch_lost: list[str] = field(default_factory=list)
    redispatched: list[str] = field(default_factory=list)
    stale_locks_removed: int = 0
    notices_swept: int = 0
    tenant_errors: int = 0


class RunService:
    def __init__(
        self,
        store: RunStorePort,
        dispatcher: Dispatcher,
        registry: Registry,
        *,
        lease: timedelta,
        stale_queued_after: timedelta,
        events: RunEvents | None = None,
        outbox: Outbox | None = None,
        dispatch: DispatchPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._registry = registry
        self._lease = lease
        self._stale_queued_after = stale_queued_after
        self._events = events or NoEvents()
        self._outbox = outbox or Outbox(store, None)
        self._dispatch = dispatch or DispatchPolicy()
        self._clock = clock

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    @property
    def lease(self) -> timedelta:
        return self._lease

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    # -- start -----------------------------------------------------------------------------

    def ensure_run(
        self, tenant_id: str, run_type: str, inputs: Any, initiator: Initiator
    ) -> tuple[Run, bool]:
        """The active run for this identity: a new one (created=True) or the existing one.

        A new run's queued notice is an outbox row of the same transaction. An existing
        queued run whose message was last sent too long ago gets it sent again (the first
        may never have left); duplicates are harmless to the worker.
        """
        registered = self._registry.get(run_type)
        normalized = registered.normalize(inputs)
        summary = registered.summary(normalized)
        digest = identity_hash(tenant_id, run_type, normalized)
        self._store.note_tenant(tenant_id)
        for _ in range(MAX_CAS_ATTEMPTS):
            now = self._clock()
            candidate = model.new_run(
                run_id=new_run_id(now),
                tenant_id=tenant_id,
                run_type=run_type,
                inputs=normalized,
                identity_hash=digest,
                initiator=initiator,
                now=now,
                input_summary=summary,
            )
            try:
                created = self._store.create_with_lock(
                    candidate, self._outbox.rows(candidate, OutboxEvent.QUEUED)
                )
                return created, True
            except LockHeld:
                pass
            lock = self._store.get_lock(tenant_id, digest)
            if lock is None:
                continue  # released between our insert and our read: try again
            holder = self._store.get(tenant_id, lock.run_id)
            if holder is not None and holder.is_active:
                if model.needs_redispatch(holder, now=now, after=self._dispatch.redispatch_after):
                    holder = self._redispatch(holder)
                return holder, False
            # The lock outlived its run. Remove it only if nobody else already did or
            # replaced it (If-Match), then compete for the insert again.
            self._store.delete_lock(lock)
        raise ConcurrentUpdate("could not settle the active run for this request; retry")

    def dispatch_or_fail(self, run: Run) -> Run:
        """Send the work message now. If that fails, the run fails before anyone sees it queued.

        The queued notice was committed with the run; it is handed on after the send, in
        the background, so a start never waits on a notification.
        """
        try:
            self._send(run)
        except Exception as error:
            failure = Failure(
                code=FailureCode.DISPATCH_FAILED,
                message=f"the work message could not be queued: {describe_exception(error)}",
                at=self._clock(),
            )
            log.warning("dispatch failed for run %s: %s", run.id, failure.message)
            try:
                failed = self.finish(
                    run.tenant_id,
                    run.id,
                    RunOutcome.FAILED,
                    failures=(failure,),
                    expect=lambda current: current.status is model.RunStatus.QUEUED,
                )
            except StateChanged as changed:
                return changed.run  # a worker got an earlier copy (the send did go out)
            except Exception:
                log.exception("could not record dispatch failure of run %s", run.id)
                failed = run  # the reaper re-sends it, then fails it as dispatch_lost
            raise DispatchFailed(failure.message, run=failed) from error
        self._events.run_queued(run)
        self._outbox.after_commit(run, OutboxEvent.QUEUED)
        return run

    def _send(self, run: Run) -> None:
        message = RunMessage(
            run_id=run.id, tenant_id=run.tenant_id, type=run.type, token=new_token()
        )
        self._dispatcher.send(message)

    def _redispatch(self, run: Run) -> Run:
        """Record the re-send first (If-Match: one re-sender per window), then send."""
        try:
            marked = self._store.replace(model.redispatch(run, now=self._clock()))
        except ConcurrentUpdate:
            return self._store.get(run.tenant_id, run.id) or run  # someone else acted
        try:
            self._send(marked)
        except Exception as error:  # noqa: BLE001 - the reaper tries again
            log.warning("re-dispatch of run %s failed: %s", run.id, describe_exception(error))
        else:
            log.info("run %s re-dispatched (send %d)", run.id, marked.dispatch_count)
        return marked

    # -- read ------------------------------------------------------------------------------

    def get(self, tenant_id: str, run_id: str) -> Run:
        run = self._store.get(tenant_id, run_id)
        if run is None:
            raise NotFound("no such run in this tenant")
        return run

    def list(
        self,
        tenant_id: str,
        run_filter: RunFilter | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> tuple[list[Run], str | None]:
        after = decode_cursor(cursor) if cursor else None
        items, next_key = self._store.list(
            tenant_id, run_filter or RunFilter(), limit=limit, after_row_key=after
        )
        return items, encode_cursor(next_key) if next_key else None

    # -- worker side -------------------------------------------------------------------------

    def claim(self, tenant_id: str, run_id: str, *, token: str | None = None) -> Claim:
        """Decide what this delivery does. Never takes a run another attempt holds under a
        live lease, whatever the dequeue count: one executor per run."""
        for _ in range(MAX_CAS_ATTEMPTS):
            run = self._store.get(tenant_id, run_id)
            if run is None:
                return Claim(ClaimVerdict.DROP)
            if run.is_terminal:
                return Claim(ClaimVerdict.FINISHED, run)
            now = self._clock()
            if model.is_lease_live(run, now=now):
                if token != run.claim_token:
                    # Another send's copy: the holder's own message comes back if it dies.
                    return Claim(ClaimVerdict.DROP, run)
                assert run.lease_expires_at is not None  # noqa: S101 - live lease
                return Claim(ClaimVerdict.WAIT, run, run.lease_expires_at - now)
            try:
                claimed = self._store.replace(
                    model.claim(run, now=now, lease=self._lease, token=token)
                )
            except ConcurrentUpdate:
                continue
            return Claim(ClaimVerdict.CLAIMED, claimed)
        raise ConcurrentUpdate(f"could not claim run {run_id}")

    def save_progress(self, run: Run, counts: dict[str, int]) -> Run:
        """Progress CAS (also the heartbeat: it renews the lease). On a conflict, re-read
        and merge (a cancel request is kept); refused once this attempt lost the run."""
        current: Run | None = run
        for _ in range(MAX_CAS_ATTEMPTS):
            if current is None or not model.is_owned_by(current, run.attempt, now=self._clock()):
                raise RunLost(run.id)
            updated = model.record_progress(
                current, counts=counts, now=self._clock(), lease=self._lease
            )
            try:
                return self._store.replace(updated)
            except ConcurrentUpdate:
                current = self._store.get(run.tenant_id, run.id)
        raise ConcurrentUpdate(f"could not save progress of run {run.id}")

    def ensure_owned(self, run: Run) -> Run:
        """A fresh read: RunLost unless this attempt still holds the run (before a
        destructive step, whose effect another attempt must never share)."""
        current = self._store.get(run.tenant_id, run.id)
        if current is None or not model.is_owned_by(current, run.attempt, now=self._clock()):
            raise RunLost(run.id)
        return current

    def release(self, run: Run) -> None:
        """End this attempt's lease (it gives up, to be retried): the next delivery may
        claim at once instead of waiting for the lease to run out."""
        current: Run | None = run
        for _ in range(MAX_CAS_ATTEMPTS):
            if current is None or not model.is_owned_by(current, run.attempt, now=self._clock()):
                return
            try:
                self._store.replace(model.release_lease(current, now=self._clock()))
                return
            except ConcurrentUpdate:
                current = self._store.get(run.tenant_id, run.id)

    def resend(self, message: RunMessage, *, delay: int) -> None:
        """Put a run's message back on the queue, visible after `delay` seconds."""
        self._dispatcher.send(message, delay=delay)

    def settle_finished(self, run: Run) -> None:
        """A finished run seen again (a redelivery after a lost finish response): its
        completion notice must still go out. Hand on whatever its outbox holds."""
        handed = self._outbox.settle(run.tenant_id, run.id)
        if handed:
            log.info("run %s: %d pending notices handed on by a redelivery", run.id, handed)

    # -- end ---------------------------------------------------------------------------------

    def finish(
        self,
        tenant_id: str,
        run_id: str,
        outcome: RunOutcome,
        *,
        counts: dict[str, int] | None = None,
        failures: tuple[Failure, ...] = (),
        result: dict[str, Any] | None = None,
        attempt: int | None = None,
        expect: Callable[[Run], bool] | None = None,
        current: Run | None = None,
        held: Run | None = None,
    ) -> Run:
        """End an active run: run update, lock delete and completion notice in one
        transaction, the first two If-Match.

        Finishing a finished run is harmless and returns it unchanged. With `attempt`, only
        that attempt may finish it (a worker that lost its lease must not overwrite). With
        `expect`, only a run still in the state the caller decided on is finished; on any
        other state StateChanged is raised so the caller decides again. `current` is the
        read the caller decided on (its ETag is the one compared). `held` is the run as its
        worker last wrote it, with that ETag: the first try writes from it without reading
        the run or its lock; a lost swap re-reads as usual.
        """
        run = held or current or self._store.get(tenant_id, run_id)
        for attempt_no in range(MAX_CAS_ATTEMPTS):
            if run is None:
                raise NotFound("no such run in this tenant")
            if run.is_terminal:
                if expect is not None:
                    raise StateChanged(run)
                return run
            if attempt is not None and run.attempt != attempt:
                raise RunLost(run_id)
            if expect is not None and not expect(run):
                raise StateChanged(run)
            ended = model.finish(
                run,
                outcome=outcome,
                now=self._clock(),
                counts=counts,
                failures=failures,
                result=result,
            )
            try:
                notice = self._outbox.rows(ended, OutboxEvent.COMPLETED)
                if held is not None and attempt_no == 0:
                    saved = self._store.end_own_run(ended, notice)
                else:
                    saved = self._store.replace_and_release(ended, self._own_lock(run), notice)
            except ConcurrentUpdate:
                run = self._store.get(tenant_id, run_id)
                continue
            log.info("run %s finished: %s", run_id, outcome.value)
            self._events.run_finished(saved)
            self._outbox.after_commit(saved, OutboxEvent.COMPLETED)
            return saved
        raise ConcurrentUpdate(f"could not finish run {run_id}")

    def fail(self, tenant_id: str, run_id: str, code: str, message: str) -> Run | None:
        """Fail a run if it is still active (the poison queue)."""
        failure = Failure(code=code, message=sanitize_message(message), at=self._clock())
        try:
            return self.finish(tenant_id, run_id, RunOutcome.FAILED, failures=(failure,))
        except NotFound:
            return None

    def cancel(self, tenant_id: str, run_id: str) -> Run:
        """Queued: cancelled at once. Running: cancel_requested. Completed: InvalidTransition.

        Each branch acts only on the state it read: a queued run claimed meanwhile is
        asked to stop instead of being completed under its worker.
        """
        for _ in range(MAX_CAS_ATTEMPTS):
            run = self.get(tenant_id, run_id)
            if run.is_terminal:
                raise InvalidTransition(
                    f"run {run_id} is already {run.outcome.value}",
                    details={"status": run.status.value, "outcome": run.outcome.value},
                )
            if run.status is model.RunStatus.QUEUED:
                try:
                    return self.finish(
                        tenant_id,
                        run_id,
                        RunOutcome.CANCELLED,
                        current=run,
                        expect=lambda r: r.status is model.RunStatus.QUEUED,
                    )
                except StateChanged:
                    continue  # a worker claimed or ended it meanwhile: look again
            if run.cancel_requested:
                return run
            try:
                return self._store.replace(model.request_cancel(run, now=self._clock()))
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"could not cancel run {run_id}")

    # -- safety nets ---------------------------------------------------------------------------

    def reap(self, tenant_ids: Iterable[str]) -> ReapReport:
        """Per tenant (one tenant's failure is logged and counted, the sweep goes on):
        re-send or fail runs whose message was lost, fail runs queued too long or running
        past their lease, drop orphaned locks, and hand on notices left in the outbox.

        Walks the tenants given (the timer gives `tenants_with_runs`), and each tenant's
        lock and outbox ranges only, never the whole table.
        """
        report = ReapReport()
        tenants = tuple(dict.fromkeys(tenant_ids))
        backlog = self._dispatcher.backlog_age(self._clock())
        # A queue whose front waits longer than the window is backlogged, not losing
        # messages: re-sending then only adds duplicates, and failing would be a lie.
        backlogged = backlog is not None and backlog > self._dispatch.lost_after
        for tenant_id in tenants:
            report.tenants += 1
            try:
                self._reap_tenant(tenant_id, report, backlogged=backlogged)
            except Exception as error:  # noqa: BLE001 - isolate tenants: log, count, go on
                report.tenant_errors += 1
                log.warning("reaper: tenant %s skipped: %s", tenant_id, describe_exception(error))
        return report

    def tenants_with_runs(self, known: Iterable[str] = ()) -> tuple[str, ...]:
        """`known` tenants (the Tenants table) and every tenant that ever started a run,
        once each: a tenant reached through membership alone is walked too."""
        return tuple(dict.fromkeys([*known, *self._store.tenants_with_runs()]))

    def _reap_tenant(self, tenant_id: str, report: ReapReport, *, backlogged: bool) -> None:
        for lock in list(self._store.active_locks(tenant_id)):
            report.locks_seen += 1
            run = self._store.get(tenant_id, lock.run_id)
            if run is None or run.is_terminal:
                if self._store.delete_lock(lock):
                    report.stale_locks_removed += 1
                continue
            self._reap_run(run, report, backlogged=backlogged)
        # A notice is handled within seconds; one still here after the lost-dispatch
        # window was lost on the way (or its message poisoned): hand it on again.
        report.notices_swept += self._outbox.sweep(
            tenant_id, now=self._clock(), older_than=self._dispatch.lost_after
        )

    def _reap_run(self, run: Run, report: ReapReport, *, backlogged: bool) -> None:
        """Decide on this read; act only if the run is still in the state decided on."""
        for _ in range(MAX_CAS_ATTEMPTS):
            action = self._reap_action(run, self._clock(), backlogged=backlogged)
            if action is None:
                return
            if action == _REDISPATCH:
                marked = self._redispatch(run)
                if marked.dispatch_count > run.dispatch_count:
                    report.redispatched.append(run.id)
                return
            message = self._reap_message(action, run)
            failure = Failure(code=action, message=message, at=self._clock())

            def still(current: Run, decided: str = action) -> bool:
                return self._reap_action(current, self._clock(), backlogged=backlogged) == decided

            try:
                self.finish(
                    run.tenant_id,
                    run.id,
                    RunOutcome.FAILED,
                    failures=(failure,),
                    current=run,
                    expect=still,
                )
            except StateChanged as changed:
                if changed.run.is_terminal:
                    return
                run = changed.run
                continue
            getattr(report, action).append(run.id)
            return

    def _reap_action(self, run: Run, now: datetime, *, backlogged: bool) -> str | None:
        """What the reaper does to this run: a FailureCode to end it with, a re-send, or
        nothing."""
        if model.is_stale_queued(run, now=now, max_age=self._stale_queued_after):
            return FailureCode.STALE_QUEUED
        if not backlogged and model.needs_redispatch(run, now=now, after=self._dispatch.lost_after):
            if run.dispatch_count <= self._dispatch.max_redispatches:
                return _REDISPATCH
            return FailureCode.DISPATCH_LOST
        if model.is_lease_expired(run, now=now):
            return FailureCode.LEASE_EXPIRED
        return None

    def _reap_message(self, action: str, run: Run) -> str:
        if action == FailureCode.STALE_QUEUED:
            seconds = int(self._stale_queued_after.total_seconds())
            return f"still queued after {seconds} s; no worker picked it up"
        if action == FailureCode.DISPATCH_LOST:
            return f"its work message was sent {run.dispatch_count} times and never delivered"
        return f"the worker's lease expired during attempt {run.attempt}"

    def _own_lock(self, run: Run) -> ActiveLock | None:
        """The run's lock, only if it still names this run: never release another run's."""
        lock = self._store.get_lock(run.tenant_id, run.identity_hash)
        return lock if lock is not None and lock.run_id == run.id else None
