"""Due times in business hours: weekends, Finnish holidays and daylight saving (no database)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alerts.sla import (
    BusinessCalendar,
    add_business_hours,
    business_hours_between,
    calendar_for,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
WEEKDAYS = frozenset(range(5))


def helsinki(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def finland() -> BusinessCalendar:
    """An office in Helsinki, Monday to Friday 8-16, Finnish public holidays."""
    return calendar_for(
        country="FI",
        time_zone="Europe/Helsinki",
        workdays=WEEKDAYS,
        day_start=time(8),
        day_end=time(16),
        years=range(2023, 2029),
    )


ROUND_THE_CLOCK = BusinessCalendar(
    time_zone="Europe/Helsinki", workdays=frozenset(range(7)), day_start=time(0), day_end=time(0)
)


# --- holidays ----------------------------------------------------------------------------------


def test_independence_day_is_skipped_so_8_hours_from_thursday_afternoon_end_monday(finland):
    # Thursday 5 Dec 2024 14-16 gives 2 hours; Friday 6 Dec is Independence Day, then the weekend;
    # the remaining 6 hours run Monday 9 Dec 8-14 Helsinki time (EET, UTC+2).
    due = add_business_hours(finland, helsinki(2024, 12, 5, 14), 8)

    assert due == utc(2024, 12, 9, 12)
    assert due.tzinfo is UTC
    assert due.astimezone(HELSINKI) == helsinki(2024, 12, 9, 14)


def test_midsummer_eve_is_a_day_off(finland):
    # Thursday 20 June 2024 15-16 (1 h); Midsummer Eve Friday 21 June; Monday 8-11 EEST (UTC+3).
    assert add_business_hours(finland, helsinki(2024, 6, 20, 15), 4) == utc(2024, 6, 24, 8)


def test_christmas_eve_to_boxing_day_are_days_off(finland):
    # Monday 23 Dec 2024 12-16 (4 h); 24, 25 and 26 December are holidays; Friday 27 Dec 8-12.
    assert add_business_hours(finland, helsinki(2024, 12, 23, 12), 8) == utc(2024, 12, 27, 10)


def test_easter_from_good_friday_to_easter_monday_is_off(finland):
    # Thursday 17 April 2025 at closing; Good Friday 18 and Easter Monday 21 April; Tuesday 8-9.
    assert add_business_hours(finland, helsinki(2025, 4, 17, 16), 1) == utc(2025, 4, 22, 6)


def test_a_week_with_a_holiday_needs_one_more_day(finland):
    # 40 hours from Monday 2 Dec 2024 08:00: Monday-Thursday give 32, Friday is Independence Day.
    assert add_business_hours(finland, helsinki(2024, 12, 2, 8), 40) == utc(2024, 12, 9, 14)


def test_the_calendar_knows_finnish_holidays(finland):
    for holiday in (date(2024, 12, 6), date(2024, 6, 21), date(2024, 12, 24), date(2025, 1, 6)):
        assert holiday in finland.holidays
        assert not finland.is_working_day(holiday)
    assert finland.is_working_day(date(2024, 12, 5))
    assert not finland.is_working_day(date(2024, 12, 7))  # a Saturday


# --- daylight saving ---------------------------------------------------------------------------


def test_hours_across_the_spring_change_count_wall_clock_working_hours(finland):
    # Clocks go forward on Sunday 30 March 2025. Friday 12-16 EET (4 h), Monday 8-12 EEST (4 h).
    start = helsinki(2025, 3, 28, 12)

    due = add_business_hours(finland, start, 8)

    assert due == utc(2025, 3, 31, 9)
    assert due.astimezone(HELSINKI).hour == 12
    assert business_hours_between(finland, start, due) == 8.0


def test_hours_across_the_autumn_change_count_wall_clock_working_hours(finland):
    # Clocks go back on Sunday 27 October 2024. Friday 12-16 EEST, Monday 8-12 EET.
    start = helsinki(2024, 10, 25, 12)

    due = add_business_hours(finland, start, 8)

    assert due == utc(2024, 10, 28, 10)
    assert business_hours_between(finland, start, due) == 8.0


def test_a_working_day_that_spans_the_change_is_an_hour_shorter_or_longer():
    assert business_hours_between(
        ROUND_THE_CLOCK, helsinki(2025, 3, 30), helsinki(2025, 3, 31)
    ) == pytest.approx(23.0)
    assert business_hours_between(
        ROUND_THE_CLOCK, helsinki(2024, 10, 27), helsinki(2024, 10, 28)
    ) == pytest.approx(25.0)


def test_round_the_clock_hours_are_elapsed_hours_across_the_change():
    start = helsinki(2025, 3, 29, 12)  # Saturday, 10:00 UTC

    due = add_business_hours(ROUND_THE_CLOCK, start, 24)

    assert due == utc(2025, 3, 30, 10)
    assert due.astimezone(HELSINKI) == helsinki(2025, 3, 30, 13)


def test_night_shift_hours_on_the_spring_change_lose_the_skipped_hour():
    # 02:00-06:00 local on Sunday 30 March 2025 is 00:00-03:00 UTC: three hours, not four.
    night = BusinessCalendar(
        time_zone="Europe/Helsinki", workdays=frozenset({6}), day_start=time(2), day_end=time(6)
    )

    assert business_hours_between(
        night, helsinki(2025, 3, 30), helsinki(2025, 3, 30, 12)
    ) == pytest.approx(3.0)
    assert add_business_hours(night, helsinki(2025, 3, 30, 1), 3) == utc(2025, 3, 30, 3)


# --- starts outside working hours ------------------------------------------------------------


def test_a_case_opened_on_saturday_starts_counting_on_monday_morning(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 7, 10), 2) == utc(2024, 12, 9, 8)


def test_a_case_opened_after_closing_starts_counting_the_next_morning(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 9, 17, 30), 1) == utc(2024, 12, 10, 7)


def test_a_case_opened_before_opening_starts_counting_at_opening(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 10, 6), 1) == utc(2024, 12, 10, 7)


def test_a_case_opened_at_closing_time_counts_from_the_next_opening(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 10, 16), 0.5) == utc(2024, 12, 11, 6, 30)


def test_hours_that_end_exactly_at_closing_are_due_at_closing(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 11, 12), 4) == utc(2024, 12, 11, 14)


def test_fractions_of_an_hour_carry_over_to_the_next_day(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 11, 15), 1.5) == utc(2024, 12, 12, 6, 30)


# --- zero hours, other inputs ------------------------------------------------------------------


def test_zero_hours_during_working_hours_is_the_start_itself(finland):
    start = helsinki(2024, 12, 11, 10, 15)

    assert add_business_hours(finland, start, 0) == start
    assert add_business_hours(finland, start, 0).tzinfo is UTC


def test_zero_hours_outside_working_hours_is_the_next_opening(finland):
    assert add_business_hours(finland, helsinki(2024, 12, 7, 10), 0) == utc(2024, 12, 9, 6)
    assert add_business_hours(finland, helsinki(2024, 12, 11, 16), 0) == utc(2024, 12, 12, 6)


def test_the_start_may_be_given_in_any_time_zone(finland):
    in_utc = utc(2024, 12, 5, 12)
    in_new_york = in_utc.astimezone(ZoneInfo("America/New_York"))

    assert add_business_hours(finland, in_new_york, 8) == add_business_hours(finland, in_utc, 8)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_negative_or_non_finite_hours_are_refused(finland, hours):
    with pytest.raises(ValueError, match="hours"):
        add_business_hours(finland, helsinki(2024, 12, 11, 10), hours)


def test_a_naive_start_is_refused(finland):
    with pytest.raises(ValueError, match="aware"):
        add_business_hours(finland, datetime(2024, 12, 11, 10), 1)
    with pytest.raises(ValueError, match="aware"):
        business_hours_between(finland, datetime(2024, 12, 11, 10), utc(2024, 12, 12))


# --- business hours between ------------------------------------------------------------------


def test_hours_between_skip_the_weekend_and_the_holiday(finland):
    assert business_hours_between(
        finland, helsinki(2024, 12, 5, 14), helsinki(2024, 12, 9, 14)
    ) == pytest.approx(8.0)


def test_hours_between_outside_working_hours_are_zero(finland):
    assert business_hours_between(finland, helsinki(2024, 12, 7, 9), helsinki(2024, 12, 8, 23)) == 0
    assert (
        business_hours_between(finland, helsinki(2024, 12, 11, 10), helsinki(2024, 12, 11, 10)) == 0
    )


def test_hours_between_are_negative_when_the_end_comes_first(finland):
    # An overdue case: the due time passed 2 business hours ago.
    assert business_hours_between(
        finland, helsinki(2024, 12, 11, 12), helsinki(2024, 12, 11, 10)
    ) == pytest.approx(-2.0)


# --- building calendars ------------------------------------------------------------------------


def test_calendar_for_other_countries_and_subdivisions():
    sweden = calendar_for("se", "Europe/Stockholm", WEEKDAYS, time(9), time(17), [2024])
    assert date(2024, 6, 6) in sweden.holidays  # Sweden's national day

    bavaria = calendar_for(
        "DE", "Europe/Berlin", WEEKDAYS, time(9), time(17), [2024], subdivision="BY"
    )
    assert date(2024, 1, 6) in bavaria.holidays  # Epiphany, a holiday in Bavaria only


def test_unknown_holiday_country_is_refused():
    with pytest.raises(ValueError, match="country"):
        calendar_for("XX", "Europe/Helsinki", WEEKDAYS, time(8), time(16), [2024])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_zone": "Europe/Nowhere"}, "time zone"),
        ({"workdays": frozenset()}, "workdays"),
        ({"workdays": frozenset({7})}, "workdays"),
        ({"day_start": time(16), "day_end": time(8)}, "end after"),
        ({"day_start": time(8), "day_end": time(8)}, "end after"),
        ({"day_start": time(8, tzinfo=UTC)}, "wall-clock"),
    ],
)
def test_impossible_calendars_are_refused(kwargs, message):
    fields = {
        "time_zone": "Europe/Helsinki",
        "workdays": WEEKDAYS,
        "day_start": time(8),
        "day_end": time(16),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**fields)


def test_a_calendar_is_hashable_so_it_can_be_cached():
    calendar = BusinessCalendar(
        time_zone="Europe/Helsinki",
        workdays={0, 1, 2, 3, 4},
        day_start=time(8),
        day_end=time(16),
        holidays={date(2024, 12, 6)},
    )

    assert hash(calendar) == hash(
        BusinessCalendar(
            "Europe/Helsinki", WEEKDAYS, time(8), time(16), frozenset({date(2024, 12, 6)})
        )
    )


# --- properties --------------------------------------------------------------------------------

CALENDARS = [
    calendar_for("FI", "Europe/Helsinki", WEEKDAYS, time(8), time(16), range(2023, 2029)),
    calendar_for("US", "America/New_York", WEEKDAYS, time(0), time(6), range(2023, 2029)),
    calendar_for(
        "GB",
        "Europe/London",
        frozenset({0, 1, 2, 3, 4, 5}),
        time(9, 30),
        time(17),
        range(2023, 2029),
    ),
    ROUND_THE_CLOCK,
]
starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
hours = st.floats(min_value=0, max_value=400, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, hours=hours)
def test_hours_between_the_start_and_its_due_time_are_the_hours_added(calendar, start, hours):
    due = add_business_hours(calendar, start, hours)

    assert business_hours_between(calendar, start, due) == pytest.approx(hours, abs=1e-6)


def working_interval_around(calendar: BusinessCalendar, moment: datetime):
    local_day = moment.astimezone(calendar.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        interval = calendar.working_interval(day)
        if interval is not None and interval[0] <= moment <= interval[1]:
            return interval
    return None


@settings(max_examples=200, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, hours=hours)
def test_a_due_time_falls_within_working_hours(calendar, start, hours):
    due = add_business_hours(calendar, start, hours)

    assert due >= start
    assert working_interval_around(calendar, due) is not None


@settings(max_examples=200, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, first=hours, second=hours)
def test_more_hours_are_never_due_earlier_and_hours_add_up(calendar, start, first, second):
    low, high = sorted((first, second))

    assert add_business_hours(calendar, start, low) <= add_business_hours(calendar, start, high)
    # Hours too few to be a microsecond are zero hours, and zero hours from a closing time is
    # the next opening (documented), while the same "sum" in one step stays at the closing.
    if timedelta(hours=second) > timedelta(0):
        in_two_steps = add_business_hours(
            calendar, add_business_hours(calendar, start, first), second
        )
        in_one = add_business_hours(calendar, start, first + second)
        assert abs(in_two_steps - in_one) <= timedelta(milliseconds=1)


@settings(max_examples=200, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, end=starts)
def test_adding_the_hours_between_two_moments_reaches_the_later_one(calendar, start, end):
    first, last = sorted((start, end))
    # Exact inverse only strictly inside working hours: a moment at an opening is reached by
    # the previous closing, the same count of business hours.
    interval = working_interval_around(calendar, last)
    assume(interval is not None and interval[0] < last < interval[1])
    between = business_hours_between(calendar, first, last)

    assert between >= 0
    assert abs(add_business_hours(calendar, first, between) - last) <= timedelta(milliseconds=1)
