"""The run flow: ensure_run, dispatch_or_fail, claim, progress, finish, cancel, reap.

Correct under any number of concurrent callers on any number of hosts: the only
synchronisation is Table Storage's conditional writes (insert-if-absent, If-Match).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.errors import ConcurrentUpdate, DispatchFailed, InvalidTransition, NotFound
from shared.operations.registry import Registry
from shared.runs import model
from shared.runs.context import RunLost
from shared.runs.dispatch import Dispatcher, RunMessage
from shared.runs.events import NoEvents, RunEvents
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.listing import DEFAULT_LIMIT, RunFilter, decode_cursor, encode_cursor
from shared.runs.model import Failure, FailureCode, Initiator, OperationRun, RunOutcome
from shared.runs.sanitize import describe_exception, sanitize_message
from shared.runs.store import ActiveLock, LockHeld, RunStore

log = logging.getLogger(__name__)

# How often one call retries a compare-and-swap it lost before giving up.
MAX_CAS_ATTEMPTS = 8

# Runs lifecycle side effects (the queued event) beside the dispatch, so a start waits for
# the slower of the two sends instead of their sum.
_SIDE_EFFECTS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="run-events")


def _settle(notice: Future[None], run: OperationRun) -> None:
    """Wait for the queued event; its failure is logged, never the run's problem."""
    try:
        notice.result()
    except Exception:
        log.exception("the queued event of run %s failed", run.id)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReapReport:
    tenants: int = 0
    locks_seen: int = 0
    stale_queued: list[str] = field(default_factory=list)
    lease_expired: list[str] = field(default_factory=list)
    stale_locks_removed: int = 0


class RunService:
    def __init__(
        self,
        store: RunStore,
        dispatcher: Dispatcher,
        registry: Registry,
        *,
        lease: timedelta,
        stale_queued_after: timedelta,
        events: RunEvents | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._registry = registry
        self._lease = lease
        self._stale_queued_after = stale_queued_after
        self._events = events or NoEvents()
        self._clock = clock

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    # -- start -----------------------------------------------------------------------------

    def ensure_run(
        self, tenant_id: str, run_type: str, inputs: Any, initiator: Initiator
    ) -> tuple[OperationRun, bool]:
        """The active run for this identity: a new one (created=True) or the existing one."""
        registered = self._registry.get(run_type)
        normalized = registered.normalize(inputs)
        summary = registered.summary(normalized)
        digest = identity_hash(tenant_id, run_type, normalized)
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
                return self._store.create_with_lock(candidate), True
            except LockHeld:
                pass
            lock = self._store.get_lock(tenant_id, digest)
            if lock is None:
                continue  # released between our insert and our read: try again
            holder = self._store.get(tenant_id, lock.run_id)
            if holder is not None and holder.is_active:
                return holder, False
            # The lock outlived its run. Remove it only if nobody else already did or
            # replaced it (If-Match), then compete for the insert again.
            self._store.delete_lock(lock)
        raise ConcurrentUpdate("could not settle the active run for this request; retry")

    def dispatch_or_fail(self, run: OperationRun) -> OperationRun:
        """Send the work message now. If that fails, the run fails before anyone sees it queued.

        The `run_queued` event is emitted alongside the send, not after it, so a start pays
        one round trip for both. Its consumers therefore check the run before announcing
        it: a run whose dispatch failed is completed with `dispatch_failed` by then.
        """
        message = RunMessage(run_id=run.id, tenant_id=run.tenant_id, type=run.type)
        notice = _SIDE_EFFECTS.submit(self._events.run_queued, run)
        try:
            self._dispatcher.send(message)
        except Exception as error:
            failure = Failure(
                code=FailureCode.DISPATCH_FAILED,
                message=f"the work message could not be queued: {describe_exception(error)}",
                at=self._clock(),
            )
            log.warning("dispatch failed for run %s: %s", run.id, failure.message)
            try:
                failed = self.finish(run.tenant_id, run.id, RunOutcome.FAILED, failures=(failure,))
            except Exception:
                log.exception("could not record dispatch failure of run %s", run.id)
                failed = run  # the reaper ends it as stale_queued
            _settle(notice, run)
            raise DispatchFailed(failure.message, run=failed) from error
        _settle(notice, run)
        return run

    # -- read ------------------------------------------------------------------------------

    def get(self, tenant_id: str, run_id: str) -> OperationRun:
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
    ) -> tuple[list[OperationRun], str | None]:
        after = decode_cursor(cursor) if cursor else None
        items, next_key = self._store.list(
            tenant_id, run_filter or RunFilter(), limit=limit, after_row_key=after
        )
        return items, encode_cursor(next_key) if next_key else None

    # -- worker side -------------------------------------------------------------------------

    def claim(self, tenant_id: str, run_id: str, *, dequeue_count: int) -> OperationRun | None:
        """Take the run for this delivery, or None when the delivery is to be dropped."""
        for _ in range(MAX_CAS_ATTEMPTS):
            run = self._store.get(tenant_id, run_id)
            if run is None or run.is_terminal:
                return None  # unknown, or a duplicate delivery of a finished run
            now = self._clock()
            if (
                run.status is model.RunStatus.RUNNING
                and dequeue_count <= 1
                and not model.is_lease_expired(run, now=now)
            ):
                # A second message for a run another worker holds (a duplicate send):
                # that worker's own message is redelivered if it dies, so drop this one.
                return None
            try:
                return self._store.replace(model.claim(run, now=now, lease=self._lease))
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"could not claim run {run_id}")

    def save_progress(self, run: OperationRun, counts: dict[str, int]) -> OperationRun:
        """Progress CAS. On a conflict, re-read and merge (a cancel request is kept)."""
        current: OperationRun | None = run
        for _ in range(MAX_CAS_ATTEMPTS):
            if current is None or current.is_terminal or current.attempt != run.attempt:
                raise RunLost(run.id)
            updated = model.record_progress(
                current, counts=counts, now=self._clock(), lease=self._lease
            )
            try:
                return self._store.replace(updated)
            except ConcurrentUpdate:
                current = self._store.get(run.tenant_id, run.id)
        raise ConcurrentUpdate(f"could not save progress of run {run.id}")

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
        held: OperationRun | None = None,
    ) -> OperationRun:
        """End an active run: run update and lock delete in one transaction, both If-Match.

        Finishing a finished run is harmless and returns it unchanged. With `attempt`, only
        that attempt may finish it (a worker that lost its lease must not overwrite).
        `held` is the run as its worker last wrote it, with that ETag: the first try
        writes from it without reading anything; a lost swap re-reads as usual.
        """
        run = held if held is not None else self._store.get(tenant_id, run_id)
        for attempt_no in range(MAX_CAS_ATTEMPTS):
            if run is None:
                raise NotFound("no such run in this tenant")
            if run.is_terminal:
                return run
            if attempt is not None and run.attempt != attempt:
                raise RunLost(run_id)
            ended = model.finish(
                run,
                outcome=outcome,
                now=self._clock(),
                counts=counts,
                failures=failures,
                result=result,
            )
            try:
                if held is not None and attempt_no == 0:
                    saved = self._store.end_own_run(ended)
                else:
                    saved = self._store.replace_and_release(ended, self._own_lock(run))
            except ConcurrentUpdate:
                run = self._store.get(tenant_id, run_id)
                continue
            log.info("run %s finished: %s", run_id, outcome.value)
            self._events.run_finished(saved)
            return saved
        raise ConcurrentUpdate(f"could not finish run {run_id}")

    def fail(self, tenant_id: str, run_id: str, code: str, message: str) -> OperationRun | None:
        """Fail a run if it is still active (the reaper, the poison queue, the worker)."""
        failure = Failure(code=code, message=sanitize_message(message), at=self._clock())
        try:
            return self.finish(tenant_id, run_id, RunOutcome.FAILED, failures=(failure,))
        except NotFound:
            return None

    def cancel(self, tenant_id: str, run_id: str) -> OperationRun:
        """Queued: cancelled at once. Running: cancel_requested. Completed: InvalidTransition."""
        for _ in range(MAX_CAS_ATTEMPTS):
            run = self.get(tenant_id, run_id)
            if run.is_terminal:
                raise InvalidTransition(
                    f"run {run_id} is already {run.outcome.value}",
                    details={"status": run.status.value, "outcome": run.outcome.value},
                )
            if run.status is model.RunStatus.QUEUED:
                ended = self.finish(tenant_id, run_id, RunOutcome.CANCELLED)
                if ended.outcome is RunOutcome.CANCELLED:
                    return ended
                continue  # a worker claimed or ended it meanwhile: look again
            if run.cancel_requested:
                return run
            try:
                return self._store.replace(model.request_cancel(run, now=self._clock()))
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"could not cancel run {run_id}")

    def reap(self, tenant_ids: Iterable[str]) -> ReapReport:
        """Fail runs queued too long or running with an expired lease; drop orphaned locks.

        Walks each tenant's lock range (its active runs), never the whole table.
        """
        report = ReapReport()
        for tenant_id in tenant_ids:
            report.tenants += 1
            for lock in list(self._store.active_locks(tenant_id)):
                report.locks_seen += 1
                run = self._store.get(tenant_id, lock.run_id)
                now = self._clock()
                if run is None or run.is_terminal:
                    if self._store.delete_lock(lock):
                        report.stale_locks_removed += 1
                elif model.is_stale_queued(run, now=now, max_age=self._stale_queued_after):
                    self.fail(
                        tenant_id,
                        run.id,
                        FailureCode.STALE_QUEUED,
                        f"still queued after {int(self._stale_queued_after.total_seconds())} s;"
                        " no worker picked it up",
                    )
                    report.stale_queued.append(run.id)
                elif model.is_lease_expired(run, now=now):
                    self.fail(
                        tenant_id,
                        run.id,
                        FailureCode.LEASE_EXPIRED,
                        f"the worker's lease expired during attempt {run.attempt}",
                    )
                    report.lease_expired.append(run.id)
        return report

    def _own_lock(self, run: OperationRun) -> ActiveLock | None:
        """The run's lock, only if it still names this run: never release another run's."""
        lock = self._store.get_lock(run.tenant_id, run.identity_hash)
        return lock if lock is not None and lock.run_id == run.id else None
