"""The fault-injection suite: every named fault point, failing once before the call and
once as an ambiguous commit (the call took effect, the caller saw an error), in a whole
simulated deployment; afterwards the invariants are read from the tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.faults.world import ALICE, BOB, FAULT_POINTS, MODES, REAPER_PERIOD, ROBOT, World


def _outage(world: World, point: str, then: Callable[[], None]) -> Callable[[], None]:
    def act() -> None:
        world.faults.outages[point] += 1
        then()

    return act


def scenario(world: World) -> None:
    """Reaches every fault point: starts, duplicates, a cancel, a send that fails, starts
    whose process died before the send (with and without the user retrying), a worker
    crash, a cancel of a running run, a transient error, a throttle with Retry-After, a
    Teams outage."""
    world.teams.outages = 1
    world.start(ALICE, {"items": 2})
    world.start(BOB, {"items": 2})  # the same identity: deduplicated onto Alice's run
    world.start(ALICE, {"items": 1, "fail_items": [0]})
    world.start(BOB, {"items": 3})
    world.cancel(ALICE, {"items": 3})  # Bob's run, still queued
    world.start(ROBOT, {"items": 1})  # app-only: nobody to notify
    world.at(timedelta(minutes=2), lambda: world.start(ALICE, {"items": 2}))  # a new run
    world.at(
        timedelta(seconds=30),
        _outage(world, "dispatch.send", lambda: world.start(ALICE, {"items": 4})),
    )
    world.at(timedelta(seconds=40), lambda: world.start_and_die(BOB, {"items": 5}, retry=True))
    world.at(timedelta(seconds=45), lambda: world.start_and_die(BOB, {"items": 6}, retry=False))
    world.at(timedelta(seconds=50), lambda: world.start(ALICE, {"items": 1, "label": "crash"}))
    world.at(timedelta(seconds=55), lambda: world.start(BOB, {"items": 1, "label": "flaky"}))
    world.at(timedelta(seconds=58), lambda: world.start(BOB, {"items": 1, "label": "throttled"}))
    world.at(
        timedelta(seconds=59), lambda: world.start(ALICE, {"items": 3, "label": "stop midway"})
    )
    world.at(REAPER_PERIOD, lambda: None)  # at least one reaper pass
    world.run_until_quiet()


def test_without_faults_every_invariant_holds() -> None:
    world = World()
    scenario(world)
    assert world.final_violations() == []
    assert set(FAULT_POINTS) <= set(world.faults.seen)
    ended = sorted(
        (str(r.inputs["label"] or r.inputs["items"]), r.outcome.value, r.attempt)
        for r in world.runs()
    )
    assert ended == [
        ("1", "succeeded", 1),
        ("1", "succeeded", 1),  # the app-only run
        ("2", "succeeded", 1),
        ("2", "succeeded", 1),  # Alice's second run, after the first ended
        ("3", "cancelled", 0),
        ("4", "failed", 0),  # its send failed: dispatch_failed, never "queued"
        ("4", "succeeded", 1),  # the user's retry
        ("5", "succeeded", 1),  # re-sent by the user's deduplicated retry
        ("6", "succeeded", 1),  # re-sent by the reaper
        ("crash", "failed", 1),  # lease_expired: its host died
        ("flaky", "succeeded", 2),
        ("stop midway", "cancelled", 1),  # cancel requested while it ran
        ("throttled", "succeeded", 2),
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_one_fault_at_each_point(point: str, mode: str) -> None:
    world = World(point, mode)
    scenario(world)
    assert world.faults.fired == 1, f"{point} was never reached: the scenario must reach it"
    assert world.final_violations() == []
