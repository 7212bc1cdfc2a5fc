"""Metric queries: read rollups, so cost grows with the days shown, not with responses stored.

Without a channel or language filter they read DailyTotal (one row per day, touchpoint and
question), with one the finer DailyRollup. The one exception is a contact segment, which only
raw rows know (see `_raw_day_counts`).
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from django.conf import settings
from django.db import connection, connections
from django.db.models import Count, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate

from core.replica import lag_tolerant
from distribution.selectors import segment_contacts
from metrics import registry, scores
from metrics.models import DailyRollup, DailyTotal
from metrics.periods import Interval, period_of, periods, previous_range
from metrics.rollups import day_bounds, histogram_key
from surveys.models import Answer

WOMI = "womi"


@dataclass(frozen=True)
class MetricFilters:
    """Dimensions a metric query can be narrowed by; ids are internal primary keys."""

    touchpoint_ids: tuple[int, ...] = ()
    journey_id: int | None = None
    stage_id: int | None = None
    survey_id: int | None = None
    question_key: str | None = None
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # Contact segments live on raw rows (response -> personal link -> invitation -> contact).
    segment: object | None = None
    extra: dict = field(default_factory=dict)

    @property
    def needs_channel_rows(self) -> bool:
        return bool(self.channels or self.languages)

    def rollup_model(self):
        return DailyRollup if self.needs_channel_rows else DailyTotal

    def as_q(self) -> Q:
        q = Q()
        if self.touchpoint_ids:
            q &= Q(touchpoint_id__in=self.touchpoint_ids)
        if self.journey_id is not None:
            q &= Q(touchpoint__journey_id=self.journey_id)
        if self.stage_id is not None:
            q &= Q(touchpoint__stage_id=self.stage_id)
        if self.survey_id is not None:
            q &= Q(survey_id=self.survey_id)
        if self.question_key:
            q &= Q(question_key=self.question_key)
        if self.channels:
            q &= Q(channel__in=self.channels)
        if self.languages:
            q &= Q(language__in=self.languages)
        return q

    def as_raw_q(self) -> Q:
        """The same narrowing over raw answers, for queries rollups cannot answer (segments)."""
        q = Q()
        if self.touchpoint_ids:
            q &= Q(response__touchpoint_id__in=self.touchpoint_ids)
        if self.journey_id is not None:
            q &= Q(response__touchpoint__journey_id=self.journey_id)
        if self.stage_id is not None:
            q &= Q(response__touchpoint__stage_id=self.stage_id)
        if self.survey_id is not None:
            q &= Q(response__survey_id=self.survey_id)
        if self.question_key:
            q &= Q(question__key=self.question_key)
        if self.channels:
            q &= Q(response__channel__in=self.channels)
        if self.languages:
            q &= Q(response__language__in=self.languages)
        if self.segment is not None:
            q &= Q(response__personal_link__invitation__contact__in=segment_contacts(self.segment))
        return q


def _raw_day_counts(*, organization, metric: str, first: date, last: date, filters: MetricFilters):
    """(day, histogram) rows computed from raw answers: used only for contact segments, whose
    cost grows with the segment's responses (indexed by organization and submission time)."""
    start, _ = day_bounds(first, organization.time_zone)
    _, end = day_bounds(last, organization.time_zone)
    rows = (
        Answer.objects.using(lag_tolerant())
        .filter(
            organization=organization,
            question__metric=metric,
            value_int__isnull=False,
            response__submitted_at__gte=start,
            response__submitted_at__lt=end,
        )
        .filter(filters.as_raw_q())
        .annotate(day=TruncDate("response__submitted_at", tzinfo=organization.zone))
        .values_list("day", "value_int", "value_int_2")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for day, value, second, count in rows:
        key = histogram_key(value, second, metric)
        by_day[day][key] = by_day[day].get(key, 0) + count
    return by_day.items()


def histogram_from_json(counts: dict[str, int], metric: str) -> dict:
    if metric == WOMI:
        return {tuple(int(part) for part in key.split(",")): count for key, count in counts.items()}
    return {int(key): count for key, count in counts.items()}


def score_histogram(metric: str, histogram: dict) -> scores.Score:
    """Score a merged histogram with the metric's scorer from `metrics.registry`; a metric that
    cannot be scored yet raises `registry.UnscorableMetric` (callers that list plans skip those)."""
    return registry.score(metric, histogram, max_margin=settings.METRICS_MAX_MARGIN.get(metric))


def _add(target: dict, histogram: dict) -> None:
    for key, count in histogram.items():
        target[key] = target.get(key, 0) + count


def _score_json(score: scores.Score) -> dict:
    data = score.to_dict()
    data.pop("metric")
    data.pop("se")
    if score.hidden:
        # The answers per value would give the hidden score away (secondary figures are None).
        data["counts"] = None
    return data


# The first day of a row's period in SQL, per database: the histograms are summed per period
# in the database, so the rows that come back are periods x answer values, however many rollup
# rows (busy days, channels, languages) went into them. `::timestamp` keeps date_trunc off the
# session time zone (a date would become a timestamptz), which cost a sixth of the query.
PERIOD_SQL = {
    "postgresql": {
        Interval.DAY: "r.day",
        Interval.WEEK: "date_trunc('week', r.day::timestamp)::date",
        Interval.MONTH: "date_trunc('month', r.day::timestamp)::date",
    },
    "sqlite": {
        Interval.DAY: "r.day",
        Interval.WEEK: "date(r.day, '-' || ((strftime('%%w', r.day) + 6) %% 7) || ' days')",
        Interval.MONTH: "strftime('%%Y-%%m-01', r.day)",
    },
}
EACH_SQL = {
    "postgresql": ("jsonb_each_text(r.counts)", "e.value::integer"),
    "sqlite": ("json_each(r.counts)", "e.value"),
}


def _summed(
    rollups, *, start: date, interval: Interval, metrics: Iterable[str], by: tuple[str, ...] = ()
) -> dict[tuple, dict[str, int]]:
    """{(*values of the `by` columns, period's first day): {value: count}} summed over `rollups`
    in one query; rows before `start` (the range a change is compared with) fall in period None.

    On PostgreSQL each value the metrics' scales allow is summed in a column of its own
    (`counts ->> '9'`), which takes less than half the time of expanding every row's JSON; should
    a row hold any other value (submission refuses them), the sums fall short of the rows' `n` and
    the query runs again the general way, so no answer is ever left out."""
    keys = _answer_keys(metrics) if connection.vendor == "postgresql" else None
    if keys is not None:
        summed = _summed_by_key(rollups, start=start, interval=interval, by=by, keys=keys)
        if summed is not None:
            return summed
    return _summed_by_each(rollups, start=start, interval=interval, by=by)


def _answer_keys(metrics: Iterable[str]) -> list[str] | None:
    """Every histogram key the metrics can hold; None when one has no fixed scale (rating)."""
    keys: set[str] = set()
    for metric in metrics:
        values = scores.ANSWER_VALUES.get(metric)
        if values is None:
            return None
        pairs = (value if isinstance(value, tuple) else (value, None) for value in values)
        keys |= {histogram_key(value, second, metric) for value, second in pairs}
    return sorted(keys)


def _period_columns(by: tuple[str, ...], interval: Interval) -> list[str]:
    period = PERIOD_SQL[connection.vendor][interval]
    return [*(f"r.{column}" for column in by), f"CASE WHEN r.day < %s THEN NULL ELSE {period} END"]


def _summed_by_key(
    rollups, *, start: date, interval: Interval, by: tuple[str, ...], keys: list[str]
) -> dict[tuple, dict[str, int]] | None:
    groups = _period_columns(by, interval)
    inner, params = (
        rollups.values(*by, "day", "n", "counts").query.get_compiler(rollups.db).as_sql()
    )
    sums = ", ".join(["SUM(r.n)", *["SUM((r.counts ->> %s)::integer)"] * len(keys)])
    grouping = ", ".join(str(number) for number in range(1, len(groups) + 1))
    sql = f"SELECT {', '.join(groups)}, {sums} FROM ({inner}) r GROUP BY {grouping}"  # noqa: S608 (our constants and Django's SQL; values as parameters)
    summed: dict[tuple, dict[str, int]] = {}
    with connections[rollups.db].cursor() as cursor:
        cursor.execute(sql, [start, *keys, *params])
        for row in cursor.fetchall():
            group, n, counts = row[: len(groups)], row[len(groups)], row[len(groups) + 1 :]
            histogram = {key: int(count) for key, count in zip(keys, counts, strict=True) if count}
            if sum(histogram.values()) != n:
                return None
            summed[tuple(group)] = histogram
    return summed


def _summed_by_each(
    rollups, *, start: date, interval: Interval, by: tuple[str, ...]
) -> dict[tuple, dict[str, int]]:
    vendor = connection.vendor
    groups = _period_columns(by, interval)
    each, value = EACH_SQL[vendor]
    inner, params = rollups.values(*by, "day", "counts").query.get_compiler(rollups.db).as_sql()
    grouping = ", ".join(str(number) for number in range(1, len(groups) + 2))
    sql = f"SELECT {', '.join(groups)}, e.key, SUM({value}) FROM ({inner}) r, {each} e"  # noqa: S608 (our constants and Django's SQL; values as parameters)
    first = start if vendor == "postgresql" else start.isoformat()
    summed: dict[tuple, dict[str, int]] = defaultdict(dict)
    with connections[rollups.db].cursor() as cursor:
        cursor.execute(f"{sql} GROUP BY {grouping}", [first, *params])
        for *group, period_start, key, count in cursor.fetchall():
            if isinstance(period_start, str):
                period_start = date.fromisoformat(period_start)
            summed[(*group, period_start)][key] = int(count)
    return summed


def metric_series(
    *,
    organization,
    metric: str,
    start: date,
    end: date,
    interval: Interval,
    filters: MetricFilters,
    level: float = 0.95,
) -> dict:
    """Scores per period, for the whole range, and the change against the equally long range before.

    One query over the rollups of both ranges, summed per period in the database (over raw
    answers when a contact segment is asked for). Values are unrounded; pages round for display.
    """
    previous_start, previous_end = previous_range(start, end)
    by_period: dict[date, dict] = defaultdict(dict)
    total: dict = {}
    previous: dict = {}
    if filters.segment is not None:
        rows = _raw_day_counts(
            organization=organization,
            metric=metric,
            first=previous_start,
            last=end,
            filters=filters,
        )
        for day, counts in rows:
            histogram = histogram_from_json(counts, metric)
            _add(previous if day < start else by_period[period_of(day, interval)], histogram)
    else:
        rollups = (
            filters.rollup_model()
            .objects.using(lag_tolerant())
            .filter(organization=organization, metric=metric, day__gte=previous_start, day__lte=end)
            .filter(filters.as_q())
        )
        summed = _summed(rollups, start=start, interval=interval, metrics=[metric])
        for (period,), counts in summed.items():
            histogram = histogram_from_json(counts, metric)
            _add(previous if period is None else by_period[period], histogram)
    for histogram in by_period.values():
        _add(total, histogram)

    results = []
    for period_start, period_end in periods(start, end, interval):
        histogram = by_period.get(period_of(period_start, interval), {})
        results.append(
            {
                "period_start": period_start,
                "period_end": period_end,
                **_score_json(score_histogram(metric, histogram)),
            }
        )
    total_score = score_histogram(metric, total)
    previous_score = score_histogram(metric, previous)
    comparison = scores.compare(total_score, previous_score, level=level)
    return {
        "metric": metric,
        "interval": str(interval),
        "start": start,
        "end": end,
        "results": results,
        "total": _score_json(total_score),
        "change": {
            "previous_start": previous_start,
            "previous_end": previous_end,
            "previous_n": previous_score.n,
            "previous_score": previous_score.score,
            "delta": comparison.delta,
            "p_value": comparison.p_value,
            "significant": comparison.significant,
            "level": level,
        },
    }


def touchpoint_metric_scores(
    *, organization, pairs: set[tuple[int, str]], start: date, end: date
) -> dict[tuple[int, str], scores.Score]:
    """Scores for many (touchpoint id, metric) pairs over one range, in one query.

    Pairs whose metric cannot be scored yet (metrics.registry) are left out of the answer."""
    pairs = {pair for pair in pairs if registry.is_scorable(pair[1])}
    if not pairs:
        return {}
    touchpoint_ids = {touchpoint_id for touchpoint_id, _ in pairs}
    metrics = {metric for _, metric in pairs}
    rows = (
        DailyTotal.objects.using(lag_tolerant())
        .filter(
            organization=organization,
            touchpoint_id__in=touchpoint_ids,
            metric__in=metrics,
            day__gte=start,
            day__lte=end,
        )
        .values_list("touchpoint_id", "metric", "counts")
    )
    histograms: dict[tuple[int, str], dict] = defaultdict(dict)
    for touchpoint_id, metric, counts in rows:
        if (touchpoint_id, metric) in pairs:
            _add(histograms[(touchpoint_id, metric)], histogram_from_json(counts, metric))
    return {pair: score_histogram(pair[1], histograms.get(pair, {})) for pair in pairs}


# --- many touchpoints at once (dashboards) ---------------------------------------------------


@dataclass
class TouchpointHistograms:
    """Merged answer histograms of one (touchpoint id, metric): per period of the range, over the
    whole range, and over the equally long range before it."""

    by_period: dict[date, dict] = field(default_factory=dict)
    total: dict = field(default_factory=dict)
    previous: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesScores:
    """One (touchpoint, metric) scored: per period, in total, and against the range before."""

    metric: str
    periods: list[tuple[date, date, scores.Score]]
    total: scores.Score
    previous: scores.Score
    comparison: scores.Comparison
    histogram: dict


def touchpoint_histograms(
    *,
    organization,
    metrics: Iterable[str],
    start: date,
    end: date,
    interval: Interval,
    filters: MetricFilters,
) -> dict[tuple[int | None, str], TouchpointHistograms]:
    """Histograms per (touchpoint id, metric) for every touchpoint the filters let through, per
    period of start..end and for the equally long range before, in one query whatever the number
    of touchpoints, periods or responses (rollups summed in the database; raw answers for a
    contact segment). Metrics that cannot be scored are skipped."""
    metrics = sorted({metric for metric in metrics if registry.is_scorable(metric)})
    found: dict[tuple[int | None, str], TouchpointHistograms] = defaultdict(TouchpointHistograms)
    if not metrics:
        return {}
    previous_start, _ = previous_range(start, end)
    if filters.segment is not None:
        rows = _raw_touchpoint_day_counts(
            organization=organization, metrics=metrics, first=previous_start, last=end,
            filters=filters,
        )  # fmt: skip
        for touchpoint_id, metric, day, counts in rows:
            histogram = histogram_from_json(counts, metric)
            unit = found[(touchpoint_id, metric)]
            _add(unit.previous if day < start else unit.by_period.setdefault(
                period_of(day, interval), {}), histogram)  # fmt: skip
    else:
        rollups = (
            filters.rollup_model()
            .objects.using(lag_tolerant())
            .filter(
                organization=organization,
                metric__in=metrics,
                day__gte=previous_start,
                day__lte=end,
            )
            .filter(filters.as_q())
        )
        summed = _summed(
            rollups,
            start=start,
            interval=interval,
            metrics=metrics,
            by=("touchpoint_id", "metric"),
        )
        for (touchpoint_id, metric, period_start), counts in summed.items():
            histogram = histogram_from_json(counts, metric)
            unit = found[(touchpoint_id, metric)]
            if period_start is None:
                _add(unit.previous, histogram)
            else:
                _add(unit.by_period.setdefault(period_start, {}), histogram)
    for unit in found.values():
        for histogram in unit.by_period.values():
            _add(unit.total, histogram)
    return dict(found)


def _raw_touchpoint_day_counts(
    *, organization, metrics: list[str], first: date, last: date, filters: MetricFilters
):
    """(touchpoint id, metric, day, histogram) from raw answers, for contact segments only."""
    start, _ = day_bounds(first, organization.time_zone)
    _, end = day_bounds(last, organization.time_zone)
    rows = (
        Answer.objects.using(lag_tolerant())
        .filter(
            organization=organization,
            question__metric__in=metrics,
            value_int__isnull=False,
            response__submitted_at__gte=start,
            response__submitted_at__lt=end,
        )
        .filter(filters.as_raw_q())
        .annotate(day=TruncDate("response__submitted_at", tzinfo=organization.zone))
        .values_list(
            "response__touchpoint_id", "question__metric", "day", "value_int", "value_int_2"
        )
        .annotate(count=Count("id"))
        .order_by()
    )
    grouped: dict[tuple, dict[str, int]] = defaultdict(dict)
    for touchpoint_id, metric, day, value, second, count in rows:
        key = histogram_key(value, second, metric)
        bucket = grouped[(touchpoint_id, metric, day)]
        bucket[key] = bucket.get(key, 0) + count
    return [(tp, metric, day, counts) for (tp, metric, day), counts in grouped.items()]


def score_series(
    metric: str,
    histograms: TouchpointHistograms,
    *,
    start: date,
    end: date,
    interval: Interval,
    level: float = 0.95,
) -> SeriesScores:
    """Score merged histograms per period (every period of the range, empty ones included),
    in total and against the range before; pure, no queries."""
    periods_scored = [
        (
            first,
            last,
            score_histogram(metric, histograms.by_period.get(period_of(first, interval), {})),
        )
        for first, last in periods(start, end, interval)
    ]
    total = score_histogram(metric, histograms.total)
    previous = score_histogram(metric, histograms.previous)
    return SeriesScores(
        metric=metric,
        periods=periods_scored,
        total=total,
        previous=previous,
        comparison=scores.compare(total, previous, level=level),
        histogram=dict(histograms.total),
    )


def touchpoint_series(
    *,
    organization,
    pairs: Iterable[tuple[int, str]],
    start: date,
    end: date,
    interval: Interval,
    filters: MetricFilters,
    level: float = 0.95,
) -> dict[tuple[int, str], SeriesScores]:
    """`metric_series` for many (touchpoint id, metric) pairs in one query; pairs whose metric
    cannot be scored yet are left out of the answer."""
    pairs = {pair for pair in pairs if registry.is_scorable(pair[1])}
    if not pairs:
        return {}
    touchpoint_ids = tuple(sorted({touchpoint_id for touchpoint_id, _ in pairs}))
    narrowed = replace(filters, touchpoint_ids=touchpoint_ids)
    found = touchpoint_histograms(
        organization=organization,
        metrics={metric for _, metric in pairs},
        start=start,
        end=end,
        interval=interval,
        filters=narrowed,
    )
    empty = TouchpointHistograms()
    return {
        pair: score_series(
            pair[1], found.get(pair, empty), start=start, end=end, interval=interval, level=level
        )
        for pair in pairs
    }


HIDDEN_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def hidden_field_histograms(
    *,
    organization,
    metric: str,
    field_name: str,
    start: date,
    end: date,
    filters: MetricFilters,
    max_rows: int = 20_000,
) -> tuple[dict[str, dict], bool]:
    """({value of the response's hidden field: histogram}, truncated) over start..end.

    Hidden fields (store, agent...) live only on raw responses, so this reads raw answers: one
    aggregated query grouped by the JSON key's value and the answer, which returns units x scale
    values rows, at most `max_rows` (`truncated` says the limit was reached). Responses without
    the field are left out. Raises ValueError for a field name that is not a plain key."""
    if not HIDDEN_FIELD_NAME.match(field_name):
        raise ValueError(f"not a hidden field name: {field_name!r}")
    if not registry.is_scorable(metric):
        return {}, False
    first, _ = day_bounds(start, organization.time_zone)
    _, last = day_bounds(end, organization.time_zone)
    rows = list(
        Answer.objects.using(lag_tolerant())
        .filter(
            organization=organization,
            question__metric=metric,
            value_int__isnull=False,
            response__submitted_at__gte=first,
            response__submitted_at__lt=last,
        )
        .filter(filters.as_raw_q())
        .annotate(unit=KeyTextTransform(field_name, "response__hidden_fields"))
        .filter(unit__isnull=False)
        .exclude(unit="")
        .values_list("unit", "value_int", "value_int_2")
        .annotate(count=Count("id"))
        .order_by("unit", "value_int", "value_int_2")[: max_rows + 1]
    )
    truncated = len(rows) > max_rows
    if truncated:
        # Rows come ordered by unit: the last unit read may be cut short, so it is left out whole.
        rows = [row for row in rows[:max_rows] if row[0] != rows[max_rows][0]]
    units: dict[str, dict] = defaultdict(dict)
    for unit, value, second, count in rows:
        key = histogram_key(value, second, metric)
        units[unit][key] = units[unit].get(key, 0) + count
    return {unit: histogram_from_json(counts, metric) for unit, counts in units.items()}, truncated
