"""The job middleware: one queue delivery in, one claimed, tracked and finished run out.

One executor per run: a delivery never takes a run another attempt holds under a live
lease (a duplicate is dropped; the holder's own message, back early, is re-scheduled
for when the lease ends). The lease is renewed by a heartbeat while the handler runs.

Retry policy as data: TransientError (and losing a compare-and-swap race) ends this
attempt's lease and is retried, until the last delivery (host.json maxDequeueCount,
counted across re-scheduled copies), which fails the run instead. An error that says
when to come back (`retry_after`, e.g. Graph's 429) re-schedules the message with that
delay, bounded and jittered; any other is re-raised for the queue's visibility timeout.
Anything else fails the run at once with a sanitized message.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.errors import (
    AppError,
    ConcurrentUpdate,
    InputInvalid,
    PayloadTooLarge,
    TransientError,
)
from shared.runs.context import RunCancelled, RunContext, RunLost
from shared.runs.dispatch import RunMessage
from shared.runs.heartbeat import Heartbeat
from shared.runs.model import (
    Failure,
    FailureCode,
    Run,
    RunOutcome,
    outcome_from_counts,
)
from shared.runs.rows import check_result_size
from shared.runs.run_type import Registry
from shared.runs.sanitize import describe_exception
from shared.runs.service import ClaimVerdict, RunService

log = logging.getLogger(__name__)

RETRYABLE: tuple[type[Exception], ...] = (TransientError, ConcurrentUpdate)


@dataclass(frozen=True)
class RetryPolicy:
    max_deliveries: int
    max_retry_after: float = 300.0
    """The longest a `retry_after` may postpone a run's next delivery."""

    def is_last_delivery(self, dequeue_count: int) -> bool:
        return dequeue_count >= self.max_deliveries

    def delay(self, seconds: float) -> int:
        """A re-schedule delay: at least 1 s, at most the cap, plus up to 20 % jitter so a
        tenant's throttled runs do not come back together."""
        bounded = min(max(seconds, 1.0), self.max_retry_after)
        return math.ceil(bounded * random.uniform(1.0, 1.2))  # noqa: S311 - jitter only


def parse_message(body: str | bytes) -> RunMessage | None:
    try:
        return RunMessage.model_validate_json(body)
    except ValidationError:
        return None


class RunWorker:
    def __init__(
        self,
        service: RunService,
        registry: Registry,
        *,
        retry: RetryPolicy,
        progress_interval: float,
        heartbeat_interval: float | None = None,
        claimed: Callable[[Run], None] | None = None,
    ) -> None:
        self._service = service
        # Told of each run this worker claims (in memory only: the claim's path does no
        # more storage work for it).
        self._claimed = claimed or (lambda run: None)
        self._registry = registry
        self._retry = retry
        self._progress_interval = progress_interval
        # A third of the lease: two beats may fail before the lease runs out.
        self._heartbeat_interval = (
            heartbeat_interval
            if heartbeat_interval is not None
            else service.lease.total_seconds() / 3
        )

    def process(self, body: str | bytes, dequeue_count: int) -> Run | None:
        """Handle one delivery. Returns the run as left, or None when the delivery was dropped."""
        message = parse_message(body)
        if message is None:
            # Retrying cannot fix a message we cannot read; drop it loudly.
            log.error("dropping unreadable run message (%d bytes)", len(body))
            return None
        extra = {"run_id": message.run_id, "tenant_id": message.tenant_id, "type": message.type}
        # Deliveries spent on this send so far, across re-scheduled copies.
        deliveries = message.deliveries + dequeue_count
        claim = self._service.claim(message.tenant_id, message.run_id, token=message.token)
        if claim.verdict is ClaimVerdict.FINISHED and claim.run is not None:
            self._service.settle_finished(claim.run)
            return None
        if claim.verdict is ClaimVerdict.WAIT:
            # This send's own message, back while its attempt's lease is live (the host
            # lost track of it, or a duplicate copy): look again when the lease ends.
            self._service.resend(message, delay=self._retry.delay(claim.wait.total_seconds()))
            return None
        if claim.verdict is not ClaimVerdict.CLAIMED or claim.run is None:
            log.info("dropping delivery %d of run %s: nothing to do", dequeue_count, message.run_id)
            return None
        run = claim.run
        self._claimed(run)
        extra["attempt"] = str(run.attempt)
        log.info("run %s attempt %d started", run.id, run.attempt, extra=extra)
        try:
            run_type = self._registry.get(run.type)
            inputs = run_type.parse(run.inputs)
        except InputInvalid as error:
            return self._fail(run, error.code, error.message)

        ctx = RunContext(
            run,
            save_progress=self._service.save_progress,
            min_interval=self._progress_interval,
            now=self._service.clock,
            check_owner=self._service.ensure_owned,
        )
        try:
            with Heartbeat(ctx, interval=self._heartbeat_interval):
                result = run_type.handler(ctx, inputs)
        except RunCancelled:
            return self._end(ctx, RunOutcome.CANCELLED, None)
        except RunLost:
            log.warning("run %s was ended or reclaimed elsewhere; stopping", run.id, extra=extra)
            return None
        except RETRYABLE as error:
            if self._retry.is_last_delivery(deliveries):
                return self._fail(
                    ctx.run,
                    FailureCode.RETRIES_EXHAUSTED,
                    f"gave up after {deliveries} deliveries: {describe_exception(error)}",
                    ctx,
                )
            log.warning(
                "run %s: transient error on delivery %d, will retry: %s",
                run.id,
                deliveries,
                describe_exception(error),
                extra=extra,
            )
            self._give_back(ctx.run)
            retry_after = getattr(error, "retry_after", None)
            if retry_after:
                later = message.model_copy(update={"deliveries": deliveries})
                self._service.resend(later, delay=self._retry.delay(float(retry_after)))
                return None
            raise
        except Exception as error:  # noqa: BLE001 - every other error ends the run, sanitized
            code = error.code if isinstance(error, AppError) else FailureCode.UNHANDLED_ERROR
            log.error("run %s failed: %s", run.id, describe_exception(error), extra=extra)
            return self._fail(ctx.run, code, describe_exception(error), ctx)
        return self._end(ctx, outcome_from_counts(ctx.counts), result)

    def _give_back(self, run: Run) -> None:
        """End this attempt's lease so its redelivery can claim at once."""
        try:
            self._service.release(run)
        except Exception as error:  # noqa: BLE001 - then the lease runs out on its own
            log.warning("run %s: could not end its lease: %s", run.id, describe_exception(error))

    def _end(
        self, ctx: RunContext, outcome: RunOutcome, result: dict[str, Any] | None
    ) -> Run | None:
        if ctx.skip_reasons:
            result = {**(result or {}), "skipped_reasons": ctx.skip_reasons}
        try:
            check_result_size(result)
        except PayloadTooLarge as error:
            # A handler bug, not the tenant's: keep the counts, fail with a clear code.
            return self._fail(ctx.run, "result_too_large", error.message, ctx)
        try:
            return self._service.finish(
                ctx.tenant_id,
                ctx.run.id,
                outcome,
                counts=ctx.counts,
                failures=tuple(ctx.failures),
                result=result,
                attempt=ctx.attempt,
                held=ctx.run,
            )
        except RunLost:
            return None

    def _fail(self, run: Run, code: str, message: str, ctx: RunContext | None = None) -> Run | None:
        failure = Failure(code=code, message=message, attempt=run.attempt, at=self._service.clock())
        try:
            return self._service.finish(
                run.tenant_id,
                run.id,
                RunOutcome.FAILED,
                counts=ctx.counts if ctx else None,
                failures=(*(ctx.failures if ctx else ()), failure),
                attempt=run.attempt,
                held=run,
            )
        except RunLost:
            return None

    def process_poison(self, body: str | bytes) -> Run | None:
        """A message the host gave up on: fail its run if it is still active."""
        message = parse_message(body)
        if message is None:
            log.error("unreadable message on the poison queue (%d bytes)", len(body))
            return None
        return self._service.fail(
            message.tenant_id,
            message.run_id,
            FailureCode.POISON,
            f"the work message failed {self._retry.max_deliveries} deliveries"
            " and was moved to the poison queue",
        )
