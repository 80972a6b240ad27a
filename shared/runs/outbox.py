"""Transactional notices: an outbox row written in the same transaction as the run's
transition, handed to a sink after the commit (by default through the process's relay,
which batches the notices of a short window into one message: shared.runs.relay), and
again by a sweep until the consumer (the notifications worker) has handled it and
deleted the row.

A notice therefore exists exactly when its transition does: a lost response, a crash
after the commit, a failed enqueue or a poisoned notification message delays it, never
loses or invents it. Handing on is at least once; the consumer is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from shared.runs.identity import outbox_row_key
from shared.runs.model import Run
from shared.runs.relay import PROCESS_RELAY, Notice, NoticeRelay
from shared.runs.store import OutboxRow, RunStorePort

log = logging.getLogger(__name__)


class OutboxEvent(StrEnum):
    QUEUED = "queued"
    COMPLETED = "completed"


class OutboxSink(Protocol):
    def wants(self, run: Run) -> bool:
        """Whether this run has anybody to tell (no row is written otherwise)."""

    def send(self, tenant_id: str, run_id: str, event: str) -> None:
        """Hand one notice on; raising leaves the row for the sweep."""

    def send_many(self, notices: Sequence[Notice]) -> None:
        """Hand several notices on as one message (the relay's batches)."""


def inline(task: Callable[[], None]) -> None:
    task()


class Outbox:
    def __init__(
        self,
        store: RunStorePort,
        sink: OutboxSink | None,
        *,
        run_after: Callable[[Callable[[], None]], None] | None = None,
        relay: NoticeRelay = PROCESS_RELAY,
    ) -> None:
        """`run_after` (tests: `inline`) hands each notice on alone through that runner;
        without it notices go through `relay`, batched, never on the caller's path."""
        self._store = store
        self._sink = sink
        self._run_after = run_after
        self._relay = relay

    def rows(self, run: Run, event: OutboxEvent) -> list[dict[str, Any]]:
        """The rows to commit with this transition (none when nobody is told)."""
        if self._sink is None or not self._sink.wants(run):
            return []
        return [
            {
                "PartitionKey": run.tenant_id,
                "RowKey": outbox_row_key(run.id, event.value),
                "Kind": "outbox",
                "RunId": run.id,
                "Event": event.value,
                "CreatedAt": run.updated_at,
            }
        ]

    def after_commit(self, run: Run, event: OutboxEvent) -> None:
        """Hand on the notice this transition committed, off the caller's path."""
        if self._sink is None or not self._sink.wants(run):
            return
        if self._run_after is None:
            self._relay.submit(self._sink, Notice(run.tenant_id, run.id, event.value))
            return
        self._run_after(lambda: self._send_quietly(run.tenant_id, run.id, event.value))

    def settle(self, tenant_id: str, run_id: str) -> int:
        """Hand on every pending notice of one run now (a redelivery of a finished run)."""
        return self._hand_on(self._store.outbox(tenant_id, run_id))

    def sweep(self, tenant_id: str, *, now: datetime, older_than: timedelta) -> int:
        """Hand on again the tenant's notices not handled after `older_than` (the
        after-commit step never ran, or the message was lost or poisoned)."""
        rows = [r for r in self._store.outbox(tenant_id) if now - r.created_at > older_than]
        return self._hand_on(rows)

    def _send_quietly(self, tenant_id: str, run_id: str, event: str) -> None:
        if self._sink is None:
            return
        try:
            self._sink.send(tenant_id, run_id, event)
        except Exception:  # noqa: BLE001 - the sweep hands it on later
            log.warning("the %s notice of run %s is left for the sweep", event, run_id)

    def _hand_on(self, rows: Sequence[OutboxRow]) -> int:
        if self._sink is None:
            return 0
        for row in rows:
            self._sink.send(row.tenant_id, row.run_id, row.event)
        return len(rows)
