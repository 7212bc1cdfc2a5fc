"""Business-hours arithmetic for service levels: pure, no ORM, no request.

A case's first contact and resolution are due a number of *business* hours after it opens:
only the working hours of working days count, in the organization's own time zone, and public
holidays (the `holidays` package) do not count at all. Hours are real elapsed time, so a working
day that spans a daylight-saving change is an hour shorter or longer, as the clock on the wall
says; results are aware datetimes in UTC.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """When work happens: `workdays` (0 = Monday) from `day_start` to `day_end` local time in
    `time_zone`, except on `holidays`.

    `day_end=time(0)` means midnight at the end of the day, so `time(0)`-`time(0)` with all seven
    workdays is a round-the-clock service. Shifts that pass midnight are not supported.
    Raises ValueError for an unknown time zone, no workdays, or a day that ends before it starts.
    """

    time_zone: str
    workdays: frozenset[int]
    day_start: time
    day_end: time
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        workdays = frozenset(self.workdays)
        if not workdays or not workdays <= frozenset(range(7)):
            raise ValueError("workdays must be a non-empty set of 0 (Monday) to 6 (Sunday)")
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("day_start and day_end are local wall-clock times without a zone")
        if self.day_end != _MIDNIGHT and self.day_end <= self.day_start:
            raise ValueError("the working day must end after it starts")
        # Frozen, so hashable and cacheable; accept any set or iterable from callers.
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def working_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of local `day` as [open, close) in UTC, or None on a day off.

        A wall-clock time that does not exist on a daylight-saving day (the hour skipped in
        spring) is read with the offset before the change, as zoneinfo does (fold=0).
        """
        if not self.is_working_day(day):
            return None
        zone = self.zone
        opens = datetime.combine(day, self.day_start, tzinfo=zone).astimezone(UTC)
        end_day = day + _ONE_DAY if self.day_end == _MIDNIGHT else day
        closes = datetime.combine(end_day, self.day_end, tzinfo=zone).astimezone(UTC)
        if closes <= opens:  # only when both ends fall around a daylight-saving change
            return None
        return opens, closes

    def intervals_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC from local `day` on, without end."""
        while True:
            interval = self.working_interval(day)
            if interval is not None:
                yield interval
            day += _ONE_DAY


def calendar_for(
    country: str,
    time_zone: str,
    workdays: Iterable[int],
    day_start: time,
    day_end: time,
    years: Iterable[int],
    *,
    subdivision: str | None = None,
) -> BusinessCalendar:
    """A calendar with the public holidays of `country` (ISO 3166 code, e.g. "FI") in `years`.

    Holidays outside `years` are not known to the calendar, so give every year its due times
    can reach (the year of the start and the next). Raises ValueError (NotImplementedError
    from the `holidays` package becomes ValueError) for an unknown country or subdivision.
    """
    try:
        public = holidays_package.country_holidays(
            country.upper(), subdiv=subdivision, years=list(years)
        )
    except NotImplementedError as error:
        raise ValueError(f"unknown holiday country {country!r}") from error
    return BusinessCalendar(
        time_zone=time_zone,
        workdays=frozenset(workdays),
        day_start=day_start,
        day_end=day_end,
        holidays=frozenset(public.keys()),
    )


def _as_utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _first_local_day(calendar: BusinessCalendar, moment: datetime) -> date:
    # The interval that contains `moment` may have opened the local day before (it can only
    # reach past midnight with day_end=00:00), so start one day early.
    return moment.astimezone(calendar.zone).date() - _ONE_DAY


def add_business_hours(calendar: BusinessCalendar, start: datetime, hours: float) -> datetime:
    """The moment `hours` business hours after `start`, as an aware datetime in UTC.

    A start outside working hours counts from the next opening, so zero hours gives `start`
    itself during working hours and the next opening otherwise. When the hours run out exactly
    at closing time, the answer is the closing time, not the next opening.
    Raises ValueError for a naive `start` or a negative or non-finite `hours`.
    """
    moment = _as_utc(start, "start")
    if not isinstance(hours, int | float) or not math.isfinite(hours) or hours < 0:
        raise ValueError("hours must be a finite number, zero or more")
    remaining = timedelta(hours=hours)
    for opens, closes in calendar.intervals_from(_first_local_day(calendar, moment)):
        if closes <= moment:
            continue
        begin = max(opens, moment)
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: a calendar always has another working day")


def business_hours_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business hours from `start` to `end` (negative when `end` comes first).

    The inverse of `add_business_hours`: `business_hours_between(c, s, add_business_hours(c, s,
    h)) == h`. Raises ValueError for naive datetimes.
    """
    first, last = _as_utc(start, "start"), _as_utc(end, "end")
    if last < first:
        return -business_hours_between(calendar, end, start)
    total = timedelta(0)
    for opens, closes in calendar.intervals_from(_first_local_day(calendar, first)):
        if opens >= last:
            break
        overlap = min(closes, last) - max(opens, first)
        if overlap > timedelta(0):
            total += overlap
    return total / timedelta(hours=1)
