"""Cutting a date range into day, week (ISO, Monday first) or month periods. Pure, no Django."""

from datetime import date, timedelta
from enum import StrEnum


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def _period_start(day: date, interval: Interval) -> date:
    if interval == Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval == Interval.MONTH:
        return day.replace(day=1)
    return day


def _next_start(start: date, interval: Interval) -> date:
    if interval == Interval.WEEK:
        return start + timedelta(days=7)
    if interval == Interval.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def periods(start: date, end: date, interval: Interval) -> list[tuple[date, date]]:
    """Inclusive (first day, last day) pairs covering start..end, clipped to the range."""
    result = []
    current = _period_start(start, interval)
    while current <= end:
        following = _next_start(current, interval)
        result.append((max(current, start), min(following - timedelta(days=1), end)))
        current = following
    return result


def period_of(day: date, interval: Interval) -> date:
    return _period_start(day, interval)


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The equally long range just before start..end."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)
