"""What a handler sees of its run: inputs, counters, item failures, cancellation.

Counts are kept here and written through the service at most once per interval (a
throttled compare-and-swap that also extends the lease), and whenever the handler checks
for cancellation after that interval has passed, so a cancel request is seen between items.
A heartbeat (another thread) writes the same way while the handler runs, so a long step
that counts nothing keeps its lease; once a write finds the run lost, every later call
raises RunLost. Destructive steps call ensure_owned() first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from shared.runs.model import STANDARD_COUNTS, Failure, Run
from shared.runs.sanitize import MAX_FAILURES, sanitize_message


class RunCancelled(Exception):  # a signal, not an error
    """Raised by check_cancelled(): the run was asked to stop."""


class RunLost(Exception):  # a signal, not an error
    """The run ended or was reclaimed by another attempt while this handler ran."""


ProgressSink = Callable[[Run, dict[str, int]], Run]
OwnerCheck = Callable[[Run], Run]


def _always_owned(run: Run) -> Run:
    return run


class RunContext:
    def __init__(
        self,
        run: Run,
        *,
        save_progress: ProgressSink,
        min_interval: float,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        check_owner: OwnerCheck = _always_owned,
    ) -> None:
        self._run = run
        self._save = save_progress
        self._check_owner = check_owner
        self._lock = threading.RLock()
        self._lost = False
        self._min_interval = min_interval
        self._now = now
        self._monotonic = monotonic
        self._last_flush = monotonic()
        self._dirty = False
        self.counts: dict[str, int] = {name: 0 for name in STANDARD_COUNTS}
        for name, value in run.summary_counts.items():
            self.counts.setdefault(name, value)
        self.failures: list[Failure] = []
        self.skip_reasons: dict[str, int] = {}

    @property
    def run(self) -> Run:
        return self._run

    @property
    def tenant_id(self) -> str:
        return self._run.tenant_id

    @property
    def attempt(self) -> int:
        return self._run.attempt

    # -- counting ------------------------------------------------------------------------

    def set_total(self, total: int) -> None:
        with self._lock:
            self.counts["total"] = total
        self._changed()

    def add_total(self, more: int) -> None:
        with self._lock:
            self.counts["total"] = self.counts.get("total", 0) + more
        self._changed()

    def item_succeeded(self, count: int = 1) -> None:
        self._bump("succeeded", count)

    def item_failed(self, item: str | None, code: str, message: str) -> None:
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(
                Failure(
                    code=code[:100],
                    message=sanitize_message(message),
                    item=item[:200] if item else None,
                    attempt=self.attempt,
                    at=self._now(),
                )
            )
        self._bump("failed", 1)

    def item_skipped(self, reason: str, count: int = 1) -> None:
        key = reason[:100]
        self.skip_reasons[key] = self.skip_reasons.get(key, 0) + count
        self._bump("skipped", count)

    def add_count(self, name: str, count: int = 1) -> None:
        """A type's own counter (e.g. `assignments`); not part of processed."""
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + count
        self._changed()

    def _bump(self, name: str, count: int) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + count
            self.counts["processed"] = self.counts.get("processed", 0) + count
        self._changed()

    def _changed(self) -> None:
        self._dirty = True
        self.report()

    # -- writing and cancellation -----------------------------------------------------------

    def report(self) -> None:
        """Write progress if the interval has passed since the last write."""
        if self._monotonic() - self._last_flush >= self._min_interval:
            self.flush()

    def flush(self) -> None:
        """Write progress now (also a heartbeat: it extends the lease)."""
        with self._lock:
            if self._lost:
                raise RunLost(self._run.id)
            try:
                self._run = self._save(self._run, dict(self.counts))
            except RunLost:
                self._lost = True
                raise
            self._last_flush = self._monotonic()
            self._dirty = False

    def heartbeat(self) -> bool:
        """Renew the lease (the heartbeat thread). False once the run is lost; other
        errors are left for the next beat."""
        try:
            self.flush()
        except RunLost:
            return False
        except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
            return True
        return True

    def ensure_owned(self) -> None:
        """Before a destructive step (pruning, writing to the tenant): RunLost unless this
        attempt still holds the run, read fresh, not from memory."""
        with self._lock:
            if self._lost:
                raise RunLost(self._run.id)
            try:
                self._run = self._check_owner(self._run)
            except RunLost:
                self._lost = True
                raise

    def check_cancelled(self) -> None:
        """Call between items: raises RunCancelled once a cancel was requested."""
        if self._lost:
            raise RunLost(self._run.id)
        self.report()
        if self._run.cancel_requested:
            raise RunCancelled(self._run.id)
