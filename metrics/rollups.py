"""Keeping DailyRollup and DailyTotal rows equal to what the raw answers say.

Rows are recomputed from raw answers, never incremented. A rollup day (`RollupDay`: one survey,
question, touchpoint and local day) is one DailyTotal row and the DailyRollup rows of its
channels and languages. `rollups_refresh` recomputes every rollup day of the surveys and local
days it is given with one aggregate query over their raw answers, under a lock on their
DailyTotal rows taken in primary key order (a second refresher of the same day waits, then reads
the answers committed meanwhile), and writes only the rows that changed; so a batch of responses
costs the same dozen queries whether it touches one day or hundreds. Running a refresh twice,
out of order, or concurrently gives the same rows as a full rebuild
(tests/metrics/test_rollups.py).
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from metrics.models import DailyRollup, DailyTotal
from surveys.models import Answer, Response

WOMI = "womi"


class RollupDay(NamedTuple):
    """The identity of one DailyTotal row, and of the DailyRollup rows that add up to it."""

    survey_id: int
    question_key: str
    touchpoint_id: int | None
    day: date

    def sort_key(self) -> tuple:
        return (self.survey_id, self.question_key, self.touchpoint_id or 0, self.day)


@dataclass(frozen=True)
class Bucket:
    survey_id: int
    question_key: str
    metric: str
    touchpoint_id: int | None
    channel: str
    language: str
    day: date

    def as_json(self) -> dict:
        return {**self.__dict__, "day": self.day.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> "Bucket":
        return cls(**{**data, "day": date.fromisoformat(data["day"])})

    @property
    def rollup_day(self) -> RollupDay:
        return RollupDay(self.survey_id, self.question_key, self.touchpoint_id, self.day)


def local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


def day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends (23 or 25 hours long on DST change days)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


def histogram_key(value: int, second: int | None, metric: str) -> str:
    return f"{value},{second}" if metric == WOMI else str(value)


def buckets_of_response(response: Response) -> set[Bucket]:
    """The buckets a response's scored answers fall in (read before a response is deleted, too)."""
    day = local_day(response.submitted_at, response.organization.time_zone)
    return {
        Bucket(
            survey_id=response.survey_id,
            question_key=answer.question.key,
            metric=answer.question.metric,
            touchpoint_id=response.touchpoint_id,
            channel=response.channel,
            language=response.language,
            day=day,
        )
        for answer in response.answers.all()
        if answer.question.metric and answer.value_int is not None
    }


def rollup_days_of_responses(*, organization, response_ids: Iterable[int]) -> dict[RollupDay, str]:
    """{rollup day: metric} of every scored answer of these responses, in one query."""
    rows = (
        _scored(_of(organization).filter(response_id__in=response_ids))
        .annotate(day=TruncDate("response__submitted_at", tzinfo=organization.zone))
        .values_list(
            "response__survey_id", "question__key", "response__touchpoint_id", "day",
            "question__metric",
        )
        .distinct()
        .order_by()
    )  # fmt: skip
    return {
        RollupDay(survey, key, touchpoint, day): metric
        for survey, key, touchpoint, day, metric in rows
    }


def rollups_refresh(*, organization, days: Mapping[RollupDay, str]) -> None:
    """Recompute from raw answers the DailyTotal and DailyRollup rows of every survey and local
    day that `days` ({rollup day: metric}) fall on, in a fixed number of queries whatever their
    number or size. Idempotent: duplicates, days whose answers are gone (their rows are deleted)
    and concurrent refreshes are safe."""
    if not days:
        return
    survey_days = _survey_days(days)
    with transaction.atomic():
        totals = _locked_totals(organization, days, survey_days)
        answers = _of(organization).filter(
            response__in=Response.objects.filter(organization=organization).filter(
                _submitted_on(survey_days, organization.time_zone)
            ),
        )
        fresh = {
            bucket: histogram
            for bucket, histogram in _histograms(answers, organization.zone, stream=False).items()
            if bucket.rollup_day in totals
        }
        _write_rollups(organization, totals, survey_days, fresh)
        _write_totals(totals, fresh)


def _of(organization) -> QuerySet:
    """The organization's answers, its responses and questions joined within it too (every
    table a statement reaches names the organization: ARCHITECTURE.md, sharding)."""
    return Answer.objects.filter(
        organization=organization,
        response__organization=organization,
        question__organization=organization,
    )


def _scored(answers: QuerySet) -> QuerySet:
    return answers.filter(value_int__isnull=False).exclude(question__metric="")


def _histograms(
    answers: QuerySet, zone: zoneinfo.ZoneInfo, *, stream: bool = True
) -> dict[Bucket, dict[str, int]]:
    """{bucket: histogram} of `answers`, summed per bucket and answer value in the database.
    `stream` reads the rows through a server-side cursor (a rebuild's millions); PostgreSQL
    plans a cursor for its first rows, which made a batch's small aggregate 30 times slower."""
    rows = (
        _scored(answers)
        .annotate(day=TruncDate("response__submitted_at", tzinfo=zone))
        .values_list(
            "response__survey_id",
            "question__key",
            "question__metric",
            "response__touchpoint_id",
            "response__channel",
            "response__language",
            "day",
            "value_int",
            "value_int_2",
        )
        .annotate(count=Count("id"))
        .order_by()
    )
    histograms: dict[Bucket, dict[str, int]] = defaultdict(dict)
    for *identity, value, second, count in rows.iterator() if stream else rows:
        bucket = Bucket(*identity)
        key = histogram_key(value, second, bucket.metric)
        histogram = histograms[bucket]
        histogram[key] = histogram.get(key, 0) + count
    return dict(histograms)


def _survey_days(days: Iterable[RollupDay]) -> dict[int, list[date]]:
    """{survey id: its local days, sorted}."""
    found: dict[int, set[date]] = defaultdict(set)
    for day in days:
        found[day.survey_id].add(day.day)
    return {survey_id: sorted(found[survey_id]) for survey_id in sorted(found)}


def _on_days(survey_days: dict[int, list[date]]) -> Q:
    """Rollup rows of these surveys and days: one condition per survey, not per row."""
    q = Q()
    for survey_id, survey_dates in survey_days.items():
        q |= Q(survey_id=survey_id, day__in=survey_dates)
    return q


def _submitted_on(survey_days: dict[int, list[date]], time_zone: str) -> Q:
    """Responses of these surveys submitted on these local days: one time range per run of
    consecutive days (the response_org_srv_sub index)."""
    q = Q()
    for survey_id, survey_dates in survey_days.items():
        first = previous = survey_dates[0]
        for day in [*survey_dates[1:], None]:
            if day is not None and day == previous + timedelta(days=1):
                previous = day
                continue
            start, end = day_bounds(first, time_zone)[0], day_bounds(previous, time_zone)[1]
            q |= Q(survey_id=survey_id, submitted_at__gte=start, submitted_at__lt=end)
            first = previous = day
    return q


def _row_day(row) -> RollupDay:
    return RollupDay(row.survey_id, row.question_key, row.touchpoint_id, row.day)


def _locked_totals(
    organization, days: Mapping[RollupDay, str], survey_days: dict[int, list[date]]
) -> dict[RollupDay, DailyTotal]:
    """Every DailyTotal row of these surveys and days, with rows made for `days` that lack
    one, locked in primary key order."""

    def locked(wanted: dict[int, list[date]]) -> dict[RollupDay, DailyTotal]:
        rows = (
            DailyTotal.objects.select_for_update()
            .filter(organization=organization)
            .filter(_on_days(wanted))
            .order_by("pk")
        )
        return {_row_day(row): row for row in rows}

    totals = locked(survey_days)
    missing = sorted((day for day in days if day not in totals), key=RollupDay.sort_key)
    if missing:
        # Inserted in one order too; a row another refresher inserted first is skipped here and
        # locked below once that refresher commits.
        DailyTotal.objects.bulk_create(
            [
                DailyTotal(organization=organization, metric=days[day], **day._asdict())
                for day in missing
            ],
            ignore_conflicts=True,
        )
        totals |= locked(_survey_days(missing))
    return totals


def _write_rollups(
    organization,
    totals: dict[RollupDay, DailyTotal],
    survey_days: dict[int, list[date]],
    fresh: dict[Bucket, dict[str, int]],
) -> None:
    """Make the DailyRollup rows of the locked days equal `fresh`, writing only what changed.
    Rows of days locked by no one (a refresher that began after ours) are left alone."""
    now = timezone.now()
    rows = (
        DailyRollup.objects.filter(organization=organization)
        .filter(_on_days(survey_days))
        .values_list(
            "pk", "survey_id", "question_key", "metric", "touchpoint_id", "channel", "language",
            "day", "counts",
        )
    )  # fmt: skip
    stored: dict[Bucket, tuple[int, dict]] = {}
    for pk, *identity, counts in rows:
        bucket = Bucket(*identity)
        if bucket.rollup_day in totals:
            stored[bucket] = (pk, counts)
    changed, created = [], []
    for bucket, histogram in fresh.items():
        pk, counts = stored.pop(bucket, (None, None))
        if pk is None:
            created.append(
                DailyRollup(
                    organization=organization,
                    counts=histogram,
                    n=sum(histogram.values()),
                    **bucket.__dict__,
                )
            )
        elif counts != histogram:
            n = sum(histogram.values())
            changed.append(DailyRollup(pk=pk, counts=histogram, n=n, refreshed_at=now))
    DailyRollup.objects.bulk_update(changed, ["counts", "n", "refreshed_at"], batch_size=500)
    DailyRollup.objects.filter(pk__in=[pk for pk, _counts in stored.values()]).delete()
    DailyRollup.objects.bulk_create(created, batch_size=500)


def _write_totals(totals: dict[RollupDay, DailyTotal], fresh: dict[Bucket, dict[str, int]]) -> None:
    """Set each locked DailyTotal to the sum of its day's fresh histograms; delete the empty."""
    summed: dict[RollupDay, dict[str, int]] = defaultdict(dict)
    for bucket, histogram in fresh.items():
        total = summed[bucket.rollup_day]
        for key, count in histogram.items():
            total[key] = total.get(key, 0) + count
    metric_of = {bucket.rollup_day: bucket.metric for bucket in fresh}
    now = timezone.now()
    changed, empty = [], []
    for day, row in totals.items():
        counts = summed.get(day)
        if not counts:
            empty.append(row.pk)
        elif row.counts != counts or row.metric != metric_of[day]:
            row.counts, row.n, row.metric, row.refreshed_at = (
                counts, sum(counts.values()), metric_of[day], now,
            )  # fmt: skip
            changed.append(row)
    DailyTotal.objects.bulk_update(
        changed, ["counts", "n", "metric", "refreshed_at"], batch_size=500
    )
    DailyTotal.objects.filter(pk__in=empty).delete()


def rollups_rebuild(*, organization) -> int:
    """Throw away and recompute every rollup of the organization from raw answers. Returns rows made."""
    histograms = _histograms(_of(organization), organization.zone)
    totals: dict[tuple[RollupDay, str], dict[str, int]] = defaultdict(dict)
    for bucket, histogram in histograms.items():
        total = totals[(bucket.rollup_day, bucket.metric)]
        for key, count in histogram.items():
            total[key] = total.get(key, 0) + count
    with transaction.atomic():
        DailyRollup.objects.filter(organization=organization).delete()
        DailyTotal.objects.filter(organization=organization).delete()
        DailyTotal.objects.bulk_create(
            [
                DailyTotal(
                    organization=organization,
                    metric=metric,
                    counts=counts,
                    n=sum(counts.values()),
                    **day._asdict(),
                )
                for (day, metric), counts in totals.items()
            ],
            batch_size=2000,
        )
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    organization=organization,
                    counts=histogram,
                    n=sum(histogram.values()),
                    **bucket.__dict__,
                )
                for bucket, histogram in histograms.items()
            ],
            batch_size=2000,
        )
    return len(histograms)
