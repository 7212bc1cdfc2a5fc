from datetime import date

from metrics.periods import Interval, periods, previous_range


def test_months_are_clipped_to_the_range():
    assert periods(date(2026, 1, 15), date(2026, 3, 10), Interval.MONTH) == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]


def test_weeks_start_on_monday():
    # 2026-11-18 is a Wednesday
    assert periods(date(2026, 11, 18), date(2026, 11, 30), Interval.WEEK) == [
        (date(2026, 11, 18), date(2026, 11, 22)),
        (date(2026, 11, 23), date(2026, 11, 29)),
        (date(2026, 11, 30), date(2026, 11, 30)),
    ]


def test_days_cover_every_day_once():
    days = periods(date(2024, 2, 27), date(2024, 3, 1), Interval.DAY)
    assert [start for start, _ in days] == [
        date(2024, 2, 27),
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]


def test_previous_range_is_equally_long_and_adjacent():
    assert previous_range(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 1, 29),
        date(2026, 2, 28),
    )
