"""Timer triggers: fire a function on its schedule, one invocation at a time.

Like the host, a timer function never overlaps itself: the next occurrence is
computed after the previous invocation ends. If an invocation overran one or more
occurrences, the function runs once at once with `past_due=True` (not once per
missed occurrence), then the schedule resumes from now.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.functions.timer import TimerRequest

from devhost.host_config import HostConfigError, parse_timespan
from devhost.invoke import invoke
from devhost.ncrontab import CronSchedule

if TYPE_CHECKING:
    from devhost.loader import TimerFunction

log = logging.getLogger("devhost.timer")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class TimerSchedule:
    """An NCRONTAB schedule, or a fixed TimeSpan interval (`hh:mm:ss`, App Service plans)."""

    text: str
    cron: CronSchedule | None = None
    interval: float = 0.0

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        if self.cron is not None:
            return self.cron.next_after(moment)
        return moment + dt.timedelta(seconds=self.interval)


def parse_timer_schedule(text: str) -> TimerSchedule:
    if ":" in text and len(text.split()) == 1:
        interval = parse_timespan(text)
        if interval <= 0:
            raise HostConfigError(f"timer interval {text!r} must be positive")
        return TimerSchedule(text, interval=interval)
    schedule = TimerSchedule(text, cron=CronSchedule.parse(text))
    # Fail at load time, not later in the timer thread, for schedules that never fire.
    schedule.next_after(utc_now())
    return schedule


class TimerRunner:
    """One thread per timer function; the thread sleeps on the stop event."""

    def __init__(self, spec: TimerFunction, clock: Clock = utc_now) -> None:
        self.spec = spec
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"devhost-timer-{spec.name}", daemon=True
        )
        self._last: dt.datetime | None = None
        self.invocations = 0

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None) -> bool:
        """True when the thread ended (no invocation left running)."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        schedule = self.spec.schedule
        if self.spec.run_on_startup and not self._stop.is_set():
            self._fire(past_due=False, scheduled=self._clock())
        scheduled = schedule.next_after(self._clock())
        while not self._stop.is_set():
            delay = (scheduled - self._clock()).total_seconds()
            if delay > 0 and self._stop.wait(delay):
                return
            self._fire(past_due=False, scheduled=scheduled)
            following = schedule.next_after(scheduled)
            if following <= self._clock() and not self._stop.is_set():
                # The invocation ran past the next occurrence: one catch-up run.
                self._fire(past_due=True, scheduled=following)
                following = schedule.next_after(self._clock())
            scheduled = following

    def _fire(self, *, past_due: bool, scheduled: dt.datetime) -> None:
        now = self._clock()
        status = {
            "Last": (self._last or now).isoformat(),
            "Next": self.spec.schedule.next_after(scheduled).isoformat(),
            "LastUpdated": now.isoformat(),
        }
        request = TimerRequest(
            past_due=past_due,
            schedule_status=status,
            schedule={"AdjustForDST": True},
        )
        self.invocations += 1
        try:
            invoke(self.spec.user_function, self.spec.name, self.spec.trigger_arg, request)
        except Exception:
            # A failing timer run is logged and the schedule goes on, as in the host.
            log.exception("timer function %s failed", self.spec.name)
        else:
            log.info("timer function %s ran (past_due=%s)", self.spec.name, past_due)
        self._last = now
