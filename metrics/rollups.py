"""Keeping DailyRollup and DailyTotal rows equal to what the raw answers say.

Every refresh recomputes a bucket from raw answers, and then its day's total from the day's
buckets, under a lock on the total row (taken first by every refresh of that day, touchpoint and
question, so two workers refreshing different channels of one day cannot lose each other's
update). Running a refresh twice, out of order, or concurrently gives the same rows as a full
rebuild (tests/metrics/test_rollups.py).
"""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from metrics.models import DailyRollup, DailyTotal
from surveys.models import Answer, Response

WOMI = "womi"


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


def _bucket_histogram(organization, bucket: Bucket) -> dict[str, int]:
    start, end = day_bounds(bucket.day, organization.time_zone)
    # Narrow by the response's organization, survey and time first: that is the
    # response_org_srv_sub index, so a refresh reads one day of one survey, however many
    # responses the organization holds.
    responses = Response.objects.filter(
        organization=organization,
        survey_id=bucket.survey_id,
        submitted_at__gte=start,
        submitted_at__lt=end,
        touchpoint_id=bucket.touchpoint_id,
        channel=bucket.channel,
        language=bucket.language,
    )
    answers = Answer.objects.filter(
        organization=organization,
        response__in=responses,
        question__key=bucket.question_key,
        value_int__isnull=False,
    )
    rows = answers.values_list("value_int", "value_int_2").annotate(count=Count("id")).order_by()
    histogram: dict[str, int] = defaultdict(int)
    for value, second, count in rows:
        histogram[histogram_key(value, second, bucket.metric)] += count
    return dict(histogram)


def _merged(histograms) -> dict[str, int]:
    merged: dict[str, int] = defaultdict(int)
    for histogram in histograms:
        for key, count in histogram.items():
            merged[key] += count
    return dict(merged)


def rollup_refresh_bucket(*, organization, bucket: Bucket) -> None:
    """Recompute one bucket from raw answers, then its day's total from the day's buckets.
    Idempotent; concurrent refreshes of one day serialize on the total row."""
    day = {
        "organization": organization,
        "survey_id": bucket.survey_id,
        "question_key": bucket.question_key,
        "touchpoint_id": bucket.touchpoint_id,
        "day": bucket.day,
    }
    identity = {**day, "channel": bucket.channel, "language": bucket.language}
    with transaction.atomic(savepoint=False):
        total, _ = DailyTotal.objects.get_or_create(**day, defaults={"metric": bucket.metric})
        # The lock makes a second refresher wait and then read the answers committed meanwhile.
        total = DailyTotal.objects.select_for_update().get(pk=total.pk)
        histogram = _bucket_histogram(organization, bucket)
        if histogram:
            DailyRollup.objects.update_or_create(
                **identity,
                defaults={
                    "counts": histogram,
                    "n": sum(histogram.values()),
                    "metric": bucket.metric,
                },
            )
        else:
            DailyRollup.objects.filter(**identity).delete()
        merged = _merged(DailyRollup.objects.filter(**day).values_list("counts", flat=True))
        if not merged:
            total.delete()
            return
        total.counts, total.n, total.metric = merged, sum(merged.values()), bucket.metric
        total.save(update_fields=["counts", "n", "metric", "refreshed_at"])


def rollups_rebuild(*, organization) -> int:
    """Throw away and recompute every rollup of the organization from raw answers. Returns rows made."""
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    rows = (
        Answer.objects.filter(organization=organization, value_int__isnull=False)
        .exclude(question__metric="")
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
    histograms: dict[Bucket, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (
        survey_id,
        key,
        metric,
        touchpoint_id,
        channel,
        language,
        day,
        value,
        second,
        count,
    ) in rows.iterator():
        bucket = Bucket(survey_id, key, metric, touchpoint_id, channel, language, day)
        histograms[bucket][histogram_key(value, second, metric)] += count
    totals: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for bucket, histogram in histograms.items():
        day_key = (bucket.survey_id, bucket.question_key, bucket.metric, bucket.touchpoint_id)
        for key, count in histogram.items():
            totals[(*day_key, bucket.day)][key] += count
    with transaction.atomic():
        DailyRollup.objects.filter(organization=organization).delete()
        DailyTotal.objects.filter(organization=organization).delete()
        DailyTotal.objects.bulk_create(
            [
                DailyTotal(
                    organization=organization,
                    survey_id=survey_id,
                    question_key=key,
                    metric=metric,
                    touchpoint_id=touchpoint_id,
                    day=day,
                    counts=dict(histogram),
                    n=sum(histogram.values()),
                )
                for (survey_id, key, metric, touchpoint_id, day), histogram in totals.items()
            ],
            batch_size=2000,
        )
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    organization=organization,
                    survey_id=bucket.survey_id,
                    question_key=bucket.question_key,
                    metric=bucket.metric,
                    touchpoint_id=bucket.touchpoint_id,
                    channel=bucket.channel,
                    language=bucket.language,
                    day=bucket.day,
                    counts=dict(histogram),
                    n=sum(histogram.values()),
                )
                for bucket, histogram in histograms.items()
            ],
            batch_size=2000,
        )
    return len(histograms)
