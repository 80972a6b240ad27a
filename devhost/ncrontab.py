"""NCRONTAB schedules as the Functions timer trigger reads them.

Six fields, `{second} {minute} {hour} {day} {month} {day-of-week}`; a five-field
expression (no seconds) is accepted too and fires at second 0, as the host does.
Each field takes `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, and
comma lists of those. Months and weekdays also take English names (`Jan`, `Mon`).
Weekdays run 0-6 from Sunday; 7 is accepted as Sunday.

Day and day-of-week: unlike Vixie cron (where a restricted day OR weekday matches),
NCrontab requires both to match. This module follows NCrontab, because that is what
decides when the real timer fires.

Times are naive-free: everything is computed on aware UTC datetimes (the host's
default `WEBSITE_TIME_ZONE` is UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# How far ahead next_after() searches before declaring a schedule impossible
# (e.g. `0 0 0 30 2 *`, 30 February). Leap-day schedules need up to 8 years.
_SEARCH_YEARS = 9


class CronError(ValueError):
    """An expression that is not valid NCRONTAB."""


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_base: int = 0


_SECOND = _FieldSpec("second", 0, 59)
_MINUTE = _FieldSpec("minute", 0, 59)
_HOUR = _FieldSpec("hour", 0, 23)
_DAY = _FieldSpec("day", 1, 31)
_MONTH = _FieldSpec("month", 1, 12, MONTH_NAMES, 1)
# 7 is accepted (and folded onto 0) because many people write Sunday as 7.
_WEEKDAY = _FieldSpec("day-of-week", 0, 7, DAY_NAMES, 0)


def _value(text: str, spec: _FieldSpec) -> int:
    lowered = text.strip().lower()
    if spec.names and lowered[:3] in spec.names and lowered.isalpha():
        return spec.names.index(lowered[:3]) + spec.names_base
    if not lowered.isdigit():
        raise CronError(f"{spec.name}: {text!r} is not a number")
    number = int(lowered)
    if not spec.low <= number <= spec.high:
        raise CronError(f"{spec.name}: {number} is outside {spec.low}-{spec.high}")
    return number


def _parse_field(text: str, spec: _FieldSpec) -> frozenset[int]:
    if not text:
        raise CronError(f"{spec.name}: empty field")
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{spec.name}: empty list item in {text!r}")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{spec.name}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, spec), _value(last, spec)
            if low > high:
                raise CronError(f"{spec.name}: range {base!r} runs backwards")
        else:
            low = _value(base, spec)
            # `a/n` means "from a to the end, every n" (NCrontab); a bare value is itself.
            high = spec.high if slash else low
        values.update(range(low, high + 1, step))
    if spec is _WEEKDAY and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule; `next_after` gives the next firing time."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        fields = expression.split()
        if len(fields) == 5:
            fields = ["0", *fields]
        if len(fields) != 6:
            raise CronError(
                f"{expression!r}: expected 6 fields "
                "({second} {minute} {hour} {day} {month} {day-of-week})"
            )
        specs = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)
        parsed = [_parse_field(text, spec) for text, spec in zip(fields, specs, strict=True)]
        return cls(expression, *parsed)

    def matches(self, moment: dt.datetime) -> bool:
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and self._day_matches(moment.date())
        )

    def _day_matches(self, day: dt.date) -> bool:
        # isoweekday: Monday=1..Sunday=7; % 7 maps Sunday to 0 like NCRONTAB.
        return (
            day.month in self.months
            and day.day in self.days
            and day.isoweekday() % 7 in self.weekdays
        )

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first firing time strictly after `moment` (aware; returned in UTC)."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        start = moment.astimezone(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
        day = start.date()
        last_day = day + dt.timedelta(days=366 * _SEARCH_YEARS)
        first_day = True
        # Walk day by day (cheap: at most a few thousand days) and, within a matching
        # day, pick the first matching time; only the first day starts mid-day.
        while day <= last_day:
            if self._day_matches(day):
                floor = start.time() if first_day else dt.time(0, 0, 0)
                found = self._first_time_on_or_after(floor)
                if found is not None:
                    return dt.datetime.combine(day, found, tzinfo=dt.UTC)
            day += dt.timedelta(days=1)
            first_day = False
        raise CronError(f"{self.expression!r} never fires")

    def _first_time_on_or_after(self, floor: dt.time) -> dt.time | None:
        for hour in sorted(h for h in self.hours if h >= floor.hour):
            minute_floor = floor.minute if hour == floor.hour else 0
            for minute in sorted(m for m in self.minutes if m >= minute_floor):
                same = hour == floor.hour and minute == floor.minute
                second_floor = floor.second if same else 0
                seconds = [s for s in sorted(self.seconds) if s >= second_floor]
                if seconds:
                    return dt.time(hour, minute, seconds[0])
        return None
