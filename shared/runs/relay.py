"""Hands committed notices on in batches, off the request path.

A start or a finish commits its notice as an outbox row with the run's transition; the
notice then has to reach the consumer (the notifications worker) through the
`notifications` queue. Sending one queue message per notice doubles a start's queue
writes and, on a busy instance, competes with the request for the CPU and the storage
account. The relay instead collects the notices a process commits within `window`
seconds and hands each sink one message per `max_batch` of them.

The bound: a notice is handed on within `window` seconds of its commit plus one queue
send. If the send fails or the process dies first, its outbox row is still there and the
reaper's sweep hands it on later (as before): delayed, never lost, never invented.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

# Long enough to gather the notices of a burst of starts into one message, short next to
# the notifications trigger's own polling interval (host.json: 1 s when idle).
RELAY_WINDOW_SECONDS = 0.2
# A message of 100 notices is ~13 KB (~17 KB in base64): far under the queue's 64 KiB.
MAX_NOTICES_PER_MESSAGE = 100


@dataclass(frozen=True)
class Notice:
    """One committed notice, as its outbox row names it."""

    tenant_id: str
    run_id: str
    event: str


class BatchSink(Protocol):
    def send_many(self, notices: Sequence[Notice]) -> None:
        """Hand several notices on as one message; raising leaves their rows for the sweep."""


class NoticeRelay:
    """A per-process collector with one daemon thread, started with the first notice."""

    def __init__(
        self,
        *,
        window: float = RELAY_WINDOW_SECONDS,
        max_batch: int = MAX_NOTICES_PER_MESSAGE,
    ) -> None:
        self._window = window
        self._max_batch = max_batch
        self._wake = threading.Condition()
        self._pending: list[tuple[BatchSink, Notice]] = []
        self._thread: threading.Thread | None = None

    def submit(self, sink: BatchSink, notice: Notice) -> None:
        with self._wake:
            self._pending.append((sink, notice))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="run-notice-relay", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def flush(self) -> int:
        """Hand on everything collected so far, now (tests); returns the count."""
        with self._wake:
            taken, self._pending = self._pending, []
        self._hand_on(taken)
        return len(taken)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
            # The first notice of a window waits for its companions, at most `window`.
            time.sleep(self._window)
            self.flush()

    def _hand_on(self, taken: Sequence[tuple[BatchSink, Notice]]) -> None:
        by_sink: dict[int, tuple[BatchSink, list[Notice]]] = {}
        for sink, notice in taken:
            by_sink.setdefault(id(sink), (sink, []))[1].append(notice)
        for sink, notices in by_sink.values():
            for first in range(0, len(notices), self._max_batch):
                chunk = notices[first : first + self._max_batch]
                try:
                    sink.send_many(chunk)
                except Exception:  # noqa: BLE001 - the sweep hands them on later
                    log.warning("%d notices are left for the sweep", len(chunk))


# One relay per process: every Outbox of the process shares its thread and its batches.
PROCESS_RELAY = NoticeRelay()
