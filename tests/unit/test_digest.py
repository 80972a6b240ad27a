"""The overview digest: what it keeps, how it is stored, and the debounced recompute."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from shared.runs.digest import DigestUnreadable, decode, digest_of, encode
from shared.runs.glance import RecentRuns
from shared.runs.model import RunOutcome, RunStatus
from shared.runs.refresh import Debouncer
from tests.unit.test_glance import NOW, facts

HOUR = timedelta(hours=1)


def recent() -> RecentRuns:
    runs = (
        facts("backup.capture", RunOutcome.PENDING, ago=HOUR / 6),  # queued: kept
        facts("policy.sync", RunOutcome.PENDING, ago=HOUR / 5, status=RunStatus.RUNNING),
        facts("policy.sync", RunOutcome.FAILED, ago=2 * HOUR),  # failed in 24 h: kept
        facts("policy.sync", RunOutcome.SUCCEEDED, ago=3 * HOUR),  # last success: kept
        facts("policy.sync", RunOutcome.SUCCEEDED, ago=4 * HOUR),  # older success: dropped
        facts("policy.sync", RunOutcome.FAILED, ago=30 * HOUR),  # failed long ago: dropped
        facts("directory_groups.sync", RunOutcome.CANCELLED, ago=50 * HOUR),  # newest of type
        facts("directory_groups.sync", RunOutcome.FAILED, ago=60 * HOUR),  # dropped
    )
    return RecentRuns("t1", NOW - timedelta(days=7), runs, active_locks=2, complete=False)


def test_the_digest_keeps_only_what_can_still_matter() -> None:
    source = recent()
    digest = digest_of(source, as_of=NOW)
    assert [r.run_id for r in digest.recent.runs] == [
        source.runs[i].run_id for i in (0, 1, 2, 3, 6)
    ]
    assert digest.recent.active_locks == 2 and digest.recent.complete is False


def test_the_digest_is_stored_and_read_back_exactly() -> None:
    digest = digest_of(recent(), as_of=NOW)
    text = encode(digest)
    assert decode("t1", text) == digest
    assert "t1" not in text  # the tenant is the row's key, not repeated


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"v": 99}',
        '{"v": 1, "types": []}',
        encode(digest_of(recent(), as_of=NOW)).replace('"as_of"', '"at"'),
    ],
)
def test_an_unreadable_digest_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(DigestUnreadable):
        decode("t1", text)


def test_marks_in_a_burst_share_one_recompute() -> None:
    calls: list[str] = []
    release = threading.Event()

    def recompute(tenant_id: str) -> None:
        calls.append(tenant_id)
        release.wait(5)

    debounce = Debouncer(recompute, delay=0.05)
    for _ in range(50):
        debounce.touch("a")
    debounce.touch("b")
    while len(calls) < 1:
        release.wait(0.01)
    debounce.touch("a")  # a change during a's recompute: recomputed again after it
    release.set()
    assert debounce.idle(5)
    assert sorted(calls) == ["a", "a", "b"]


def test_without_a_delay_the_recompute_runs_in_the_caller() -> None:
    calls: list[str] = []
    Debouncer(calls.append, delay=0).touch("a")
    assert calls == ["a"]
