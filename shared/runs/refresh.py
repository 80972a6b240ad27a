"""Recompute a tenant's overview summary after its runs change, off the callers' paths.

A run event (created, claimed, finished) only marks its tenant: an in-memory set, never
storage work on a start's or a claim's path. One background thread recomputes each marked
tenant `delay` seconds after its first mark; marks arriving meanwhile share that recompute
(a burst of 240 starts is one recompute, not 240). A mark arriving during a recompute
schedules another, so the last change is always read.

In memory, so a process that stops loses its marks: the timer sweep and the read's own
staleness check (shared.runs.summaries) bound how long that can show.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from shared.runs.events import NoEvents, RunEvents
from shared.runs.model import Run

log = logging.getLogger(__name__)

# The thread ends after this long with nothing to do and starts again on the next mark.
_IDLE_SECONDS = 60.0


class Debouncer:
    """Calls `action(key)` once, `delay` seconds after the first `touch(key)` since the
    last call began; with no delay, at once in the caller."""

    def __init__(self, action: Callable[[str], Any], *, delay: float) -> None:
        self._action = action
        self._delay = delay
        self._due: dict[str, float] = {}
        self._running: set[str] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def touch(self, key: str) -> None:
        if self._delay <= 0:
            self._call(key)
            return
        with self._changed:
            if key in self._due:
                return
            self._due[key] = time.monotonic() + self._delay
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="overview-refresh", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is due or running (True), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._due or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _loop(self) -> None:
        while True:
            with self._changed:
                if not self._due and not self._changed.wait_for(
                    lambda: bool(self._due), timeout=_IDLE_SECONDS
                ):
                    self._thread = None
                    return
                key, due = min(self._due.items(), key=lambda item: item[1])
                wait = due - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                del self._due[key]  # a mark from now on schedules another call
                self._running.add(key)
            try:
                self._call(key)
            finally:
                with self._changed:
                    self._running.discard(key)
                    self._changed.notify_all()

    def _call(self, key: str) -> None:
        try:
            self._action(key)
        except Exception:  # noqa: BLE001 - the sweep or the next read recomputes it
            log.warning("overview summary of tenant %s not recomputed; left for the sweep", key)


class SummaryEvents:
    """Run events that also mark the run's tenant for a summary recompute."""

    def __init__(self, mark: Callable[[str], None], inner: RunEvents | None = None) -> None:
        self._mark = mark
        self._inner: RunEvents = inner or NoEvents()

    def run_queued(self, run: Run) -> None:
        self._inner.run_queued(run)
        self._mark(run.tenant_id)

    def run_claimed(self, run: Run) -> None:
        self._mark(run.tenant_id)

    def run_finished(self, run: Run) -> None:
        self._inner.run_finished(run)
        self._mark(run.tenant_id)
