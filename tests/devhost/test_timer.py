"""Timer triggers: a real schedule firing, run_on_startup, and catch-up runs."""

from __future__ import annotations

import time

import azure.functions as func

from devhost import DevHost
from tests.devhost.conftest import HostFactory, wait_for
from tests.devhost.sample_app import Recorder


def test_every_second_schedule_fires(make_host: HostFactory, recorder: Recorder) -> None:
    make_host(values={"SAMPLE_TIMER_SCHEDULE": "*/1 * * * * *"})
    wait_for(lambda: len(recorder.of("ticker")) >= 2, timeout=10, what="two ticks")
    first, second = recorder.of("ticker")[:2]
    assert first.data == {"past_due": False, "type": "TimerRequest"}
    assert second.started > first.started


def test_run_on_startup_fires_once_at_start(make_host: HostFactory, recorder: Recorder) -> None:
    make_host()  # the sample's startup schedule is yearly
    wait_for(lambda: len(recorder.of("on_startup")) == 1, what="startup run")
    assert recorder.of("on_startup")[0].data == {"past_due": False}
    assert recorder.of("ticker") == []  # yearly: no run without run_on_startup


def test_overrun_gives_one_past_due_run() -> None:
    app = func.FunctionApp()
    seen: list[bool] = []

    @app.timer_trigger(arg_name="timer", schedule="* * * * * *")
    def slow_tick(timer: func.TimerRequest) -> None:
        seen.append(timer.past_due)
        if len(seen) == 1:
            time.sleep(1.3)  # overrun the next occurrence

    with DevHost(app, environ={}) as host:
        wait_for(lambda: len(seen) >= 3, timeout=10, what="three ticks")
        assert host.timers[0].invocations >= 3
    assert seen[:3] == [False, True, False]


def test_failing_timer_keeps_its_schedule() -> None:
    app = func.FunctionApp()
    runs: list[int] = []

    @app.timer_trigger(arg_name="timer", schedule="* * * * * *", run_on_startup=True)
    def failing(timer: func.TimerRequest) -> None:
        runs.append(1)
        raise RuntimeError("timer failure")

    with DevHost(app, environ={}):
        wait_for(lambda: len(runs) >= 2, timeout=10, what="a run after a failure")
