from django.db import models

from core.models import TenantModel


class DailyRollup(TenantModel):
    """Exact answer counts of one question for one touchpoint, channel, language and local day.

    `counts` is the histogram of raw answer values ({"9": 14, "10": 31}); for WOMI the joint
    histogram of (recommend, discourage) pairs ({"10,0": 12}). Scores for any range are merged from
    these rows (metrics.scores), so reading a year costs the days shown, not the responses stored.
    Rows are recomputed from raw answers, never incremented, which makes refreshing idempotent.
    """

    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    question_key = models.CharField(max_length=64)
    metric = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)
    language = models.CharField(max_length=5)
    day = models.DateField()
    n = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "survey",
                    "question_key",
                    "touchpoint",
                    "channel",
                    "language",
                    "day",
                ],
                name="rollup_one_row_per_bucket",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["organization", "metric", "day"], name="rollup_metric_day"),
            models.Index(
                fields=["organization", "touchpoint", "metric", "day"], name="rollup_touchpoint_day"
            ),
            # Refreshing a batch's days reads their rows by survey and day (metrics.rollups).
            models.Index(fields=["organization", "survey", "day"], name="rollup_survey_day"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.question_key} {self.day} n={self.n}"


class DailyTotal(TenantModel):
    """The sum of one day's DailyRollup rows of a touchpoint and question over every channel and
    language: the row most queries read (KPIs, the journey map, the metrics API without a channel
    or language filter). It holds at most one row per day, touchpoint and question, so a year
    costs the same few hundred rows whether the day had ten responses or ten thousand.
    Kept equal to its DailyRollup rows by `metrics.rollups` (refreshed under the same lock).
    """

    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    question_key = models.CharField(max_length=64)
    metric = models.CharField(max_length=20)
    day = models.DateField()
    n = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "question_key", "touchpoint", "day"],
                name="daily_total_one_row_per_day",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["organization", "metric", "day"], name="total_metric_day"),
            models.Index(
                fields=["organization", "touchpoint", "metric", "day"], name="total_touchpoint_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.question_key} {self.day} n={self.n} (all channels)"
