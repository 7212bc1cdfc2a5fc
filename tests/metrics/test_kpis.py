from datetime import date
from decimal import Decimal

import pytest

from journeys.models import MeasurementPlan
from metrics import kpis
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 31)


@pytest.fixture
def plan(scoped, touchpoint, personas):
    touchpoint.owner = personas.cx_manager
    touchpoint.save()
    return MeasurementPlan.objects.create(
        organization=scoped,
        touchpoint=touchpoint,
        metric="nps",
        kpi_kind="tactical",
        baseline_value=Decimal("10"),
        target_value=Decimal("30"),
        target_date=date(2026, 12, 31),
    )


@pytest.fixture(autouse=True)
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.METRICS_CURRENT_WINDOW_DAYS = 30


def submit_many(submit, scores_, when, capture):
    with capture(execute=True):
        for score in scores_:
            submit(score, when)


def test_kpi_without_answers_says_no_data(scoped, plan):
    [kpi] = kpis.kpi_list(organization=scoped, today=TODAY)
    assert (kpi.status, kpi.trend, kpi.n) == ("no_data", "no_data", 0)


def test_kpi_on_target_and_improving(scoped, plan, submit, django_capture_on_commit_callbacks):
    submit_many(
        submit, [10] * 40 + [5] * 5, at(2026, 3, 20), django_capture_on_commit_callbacks
    )  # NPS 77.8
    submit_many(
        submit, [10] * 10 + [2] * 30, at(2026, 2, 20), django_capture_on_commit_callbacks
    )  # NPS -50
    [kpi] = kpis.kpi_list(organization=scoped, today=TODAY)
    assert kpi.status == "on_target"
    assert kpi.trend == "improving"
    assert kpi.current == pytest.approx(100 * 35 / 45)
    assert kpi.owner_email == plan.touchpoint.owner.email


def test_kpi_below_target_without_detectable_change(
    scoped, plan, submit, django_capture_on_commit_callbacks
):
    submit_many(submit, [10, 9, 3, 5, 8, 7], at(2026, 3, 20), django_capture_on_commit_callbacks)
    submit_many(submit, [10, 2, 3, 9, 8, 7], at(2026, 2, 20), django_capture_on_commit_callbacks)
    [kpi] = kpis.kpi_list(organization=scoped, today=TODAY)
    assert kpi.status == "below"
    assert kpi.trend == "no_detectable_change"


def test_lower_is_better_for_legacy_ces():
    from metrics import scores

    score = scores.ces_legacy({1: 10, 2: 10})
    assert kpis.status_of("ces_legacy", score, Decimal("2.0")) == "on_target"
    assert kpis.status_of("ces_legacy", score, Decimal("1.2")) == "below"


def test_kpi_api_lists_every_plan_with_status(
    plan, read_api, submit, django_capture_on_commit_callbacks
):
    body = read_api.get("/api/v1/orgs/acme/kpis/").json()
    [row] = body["results"]
    assert row["touchpoint"] == plan.touchpoint.public_id
    assert row["metric"] == "nps" and row["kpi_kind"] == "tactical"
    assert row["target"] == 30.0 and row["baseline"] == 10.0
    assert row["status"] == "no_data"


def test_kpi_query_count_does_not_grow_with_plans(
    scoped, plan, read_api, django_assert_max_num_queries
):
    from tests.surveys.factories import make_touchpoint

    for i in range(10):
        tp = make_touchpoint(scoped, name=f"Store {i}")
        MeasurementPlan.objects.create(
            organization=scoped, touchpoint=tp, metric="csat", kpi_kind="operational"
        )
    with django_assert_max_num_queries(6):
        response = read_api.get("/api/v1/orgs/acme/kpis/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 11
