"""The lease heartbeat: renews the running attempt's lease while its handler works, so a
long step that reports no progress is not mistaken for a dead worker."""

from __future__ import annotations

import threading
from types import TracebackType

from shared.runs.context import RunContext


class Heartbeat:
    def __init__(self, ctx: RunContext, *, interval: float) -> None:
        self._ctx = ctx
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"run-heartbeat-{ctx.run.id}", daemon=True
        )
        self.beats = 0

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            if not self._ctx.heartbeat():
                return  # the run was lost: the handler finds out at its next call
            self.beats += 1

    def __enter__(self) -> Heartbeat:
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop and wait: no beat may race the terminal write that follows."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
