"""Lifecycle events the service emits. Notifications subscribe here; a run never waits on them."""

from __future__ import annotations

from typing import Protocol

from shared.runs.model import Run


class RunEvents(Protocol):
    def run_queued(self, run: Run) -> None:
        """A new run was created and its work message is being sent, concurrently with this
        call. If that send fails, the run is completed with `dispatch_failed` (and
        `run_finished` follows): consumers that announce runs must check the run first."""

    def run_finished(self, run: Run) -> None:
        """A run reached a terminal outcome (emitted once, by the writer that ended it)."""


class NoEvents:
    def run_queued(self, run: Run) -> None:
        return None

    def run_finished(self, run: Run) -> None:
        return None
