"""Metric queries sum rollups in the database, per value of the metric's scale."""

from datetime import date

import pytest

from metrics.models import DailyTotal
from metrics.periods import Interval
from metrics.selectors import MetricFilters, metric_series
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def march_nps(organization) -> dict:
    return metric_series(
        organization=organization,
        metric="nps",
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        interval=Interval.MONTH,
        filters=MetricFilters(),
    )


def test_a_month_sums_its_days_per_answer_value(scoped, submit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for day, score in [(2, 9), (2, 10), (14, 9), (31, 0), (31, 6), (1, 10)]:
            submit(score, at(2026, 3, day))
        submit(3, at(2026, 2, 28))  # the month before: only in the comparison
    series = march_nps(scoped)
    assert series["total"]["counts"] == {"0": 1, "6": 1, "9": 2, "10": 2}
    assert series["change"]["previous_n"] == 1


def test_a_stored_value_outside_the_scale_is_never_left_out_of_a_sum(
    scoped, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(10, at(2026, 3, 14))
    # Submission refuses an 11; a rollup row holding one anyway (edited by hand, say) must make
    # the score fail loudly, not quietly count one answer fewer.
    DailyTotal.objects.update(counts={"10": 1, "11": 2}, n=3)
    with pytest.raises(ValueError, match="outside the scale"):
        march_nps(scoped)
