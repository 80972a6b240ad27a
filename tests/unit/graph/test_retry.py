"""Retry-After parsing and back-off bounds."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from shared.graph import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 1.5 ", 1.5), ("0", 0.0), ("-4", 0.0), ("", None), (None, None),
     ("soon", None), ("nan", None)],
)  # fmt: skip
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_delay_honours_retry_after_with_small_jitter() -> None:
    policy = RetryPolicy(rng=random.Random(1))
    for _ in range(50):
        assert 5 <= policy.delay(1, 5) <= 5.5
        assert 20 <= policy.delay(3, 20) <= 21


def test_exponential_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=8, rng=random.Random(2))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_policy_limits() -> None:
    policy = RetryPolicy(max_retry_after=60)
    assert policy.may_wait(None) and policy.may_wait(60) and not policy.may_wait(61)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
