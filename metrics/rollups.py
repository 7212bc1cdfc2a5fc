"""Keeping DailyRollup rows equal to what the raw answers say.

Every refresh recomputes a bucket from raw answers under a row lock, so running it twice, out of
order, or concurrently gives the same rows as a full rebuild (tests/metrics/test_rollups.py).
"""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from metrics.models import DailyRollup
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
    answers = Answer.objects.filter(
        organization=organization,
        question__key=bucket.question_key,
        response__survey_id=bucket.survey_id,
        response__touchpoint_id=bucket.touchpoint_id,
        response__channel=bucket.channel,
        response__language=bucket.language,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
        value_int__isnull=False,
    )
    rows = answers.values_list("value_int", "value_int_2").annotate(count=Count("id")).order_by()
    histogram: dict[str, int] = defaultdict(int)
    for value, second, count in rows:
        histogram[histogram_key(value, second, bucket.metric)] += count
    return dict(histogram)


def rollup_refresh_bucket(*, organization, bucket: Bucket) -> None:
    """Recompute one bucket from raw answers. Idempotent; concurrent refreshes serialize on the row."""
    identity = {
        "organization": organization,
        "survey_id": bucket.survey_id,
        "question_key": bucket.question_key,
        "touchpoint_id": bucket.touchpoint_id,
        "channel": bucket.channel,
        "language": bucket.language,
        "day": bucket.day,
    }
    with transaction.atomic():
        row, _ = DailyRollup.objects.get_or_create(**identity, defaults={"metric": bucket.metric})
        # The lock makes a second refresher wait and then read the answers committed meanwhile.
        row = DailyRollup.objects.select_for_update().get(pk=row.pk)
        histogram = _bucket_histogram(organization, bucket)
        if not histogram:
            row.delete()
            return
        row.counts, row.n, row.metric = histogram, sum(histogram.values()), bucket.metric
        row.save(update_fields=["counts", "n", "metric", "refreshed_at"])


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
    with transaction.atomic():
        DailyRollup.objects.filter(organization=organization).delete()
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
