"""NCRONTAB parsing and next-occurrence computation (pure; no host, no storage)."""

from __future__ import annotations

import datetime as dt

import pytest

from devhost.ncrontab import CronError, CronSchedule
from devhost.timer import parse_timer_schedule


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def nexts(expression: str, start: str, count: int) -> list[str]:
    schedule = CronSchedule.parse(expression)
    moment = at(start)
    found = []
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment.strftime("%Y-%m-%d %H:%M:%S"))
    return found


def test_every_second() -> None:
    assert nexts("*/1 * * * * *", "2026-01-01 00:00:00", 3) == [
        "2026-01-01 00:00:01",
        "2026-01-01 00:00:02",
        "2026-01-01 00:00:03",
    ]


def test_next_is_strictly_after_and_ignores_microseconds() -> None:
    schedule = CronSchedule.parse("0 * * * * *")
    assert schedule.next_after(at("2026-01-01 10:00:00")) == at("2026-01-01 10:01:00")
    assert schedule.next_after(at("2026-01-01 10:00:59.999")) == at("2026-01-01 10:01:00")


def test_every_five_minutes_rolls_over_hour_and_day() -> None:
    assert nexts("0 */5 * * * *", "2026-12-31 23:52:10", 3) == [
        "2026-12-31 23:55:00",
        "2027-01-01 00:00:00",
        "2027-01-01 00:05:00",
    ]


def test_lists_and_ranges() -> None:
    assert nexts("0 0 9-10,17 * * *", "2026-03-01 09:30:00", 4) == [
        "2026-03-01 10:00:00",
        "2026-03-01 17:00:00",
        "2026-03-02 09:00:00",
        "2026-03-02 10:00:00",
    ]


def test_range_with_step_and_start_with_step() -> None:
    schedule = CronSchedule.parse("10-30/10 5/20 * * * *")
    assert schedule.seconds == frozenset({10, 20, 30})
    assert schedule.minutes == frozenset({5, 25, 45})


def test_weekdays_by_number_and_name_sunday_is_zero_or_seven() -> None:
    # 2026-01-05 is a Monday.
    assert nexts("0 30 9 * * 1-5", "2026-01-09 10:00:00", 2) == [
        "2026-01-12 09:30:00",  # Friday 10:00 -> next Monday
        "2026-01-13 09:30:00",
    ]
    names = CronSchedule.parse("0 0 0 * * Mon-Fri")
    assert names.weekdays == frozenset({1, 2, 3, 4, 5})
    assert CronSchedule.parse("0 0 0 * * 7").weekdays == frozenset({0})
    assert CronSchedule.parse("0 0 0 * * sun").weekdays == frozenset({0})


def test_month_names_and_month_day() -> None:
    assert nexts("0 0 12 1 Jan,Jul *", "2026-02-10 00:00:00", 2) == [
        "2026-07-01 12:00:00",
        "2027-01-01 12:00:00",
    ]


def test_day_and_weekday_must_both_match_like_ncrontab() -> None:
    # The 13th that is a Friday (NCrontab ANDs day and weekday; cron would OR them).
    assert nexts("0 0 0 13 * 5", "2026-01-01 00:00:00", 2) == [
        "2026-02-13 00:00:00",
        "2026-03-13 00:00:00",
    ]


def test_leap_day() -> None:
    assert nexts("0 0 0 29 2 *", "2026-01-01 00:00:00", 1) == ["2028-02-29 00:00:00"]


def test_five_fields_mean_second_zero() -> None:
    assert nexts("*/15 * * * *", "2026-01-01 00:00:01", 2) == [
        "2026-01-01 00:15:00",
        "2026-01-01 00:30:00",
    ]


def test_matches() -> None:
    schedule = CronSchedule.parse("30 15 8 * * *")
    assert schedule.matches(at("2026-05-05 08:15:30"))
    assert not schedule.matches(at("2026-05-05 08:15:31"))


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *  * *",  # seven fields
        "* * * *",  # four fields
        "60 * * * * *",  # second out of range
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * * 13 *",
        "* * * * * 8",
        "*/0 * * * * *",  # zero step
        "5-1 * * * * *",  # backwards range
        "a * * * * *",
        "1,,2 * * * * *",
        "* * * * Foo *",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(CronError):
        CronSchedule.parse(expression)


def test_impossible_schedule_never_fires() -> None:
    schedule = CronSchedule.parse("0 0 0 30 2 *")
    with pytest.raises(CronError):
        schedule.next_after(at("2026-01-01 00:00:00"))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        CronSchedule.parse("* * * * * *").next_after(dt.datetime(2026, 1, 1))


def test_timespan_schedules_are_intervals() -> None:
    schedule = parse_timer_schedule("00:05:00")
    assert schedule.cron is None
    assert schedule.next_after(at("2026-01-01 00:00:00")) == at("2026-01-01 00:05:00")
