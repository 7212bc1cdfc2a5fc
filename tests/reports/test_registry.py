"""The one metric registry: every plannable metric scores, metrics without a scorer are not
offered, and plans that already name one never break a page."""

from decimal import Decimal

import pytest

from journeys.enums import Metric, target_status
from journeys.forms import MeasurementPlanForm
from journeys.models import MeasurementPlan
from metrics import registry, scores
from metrics.api import METRICS as API_METRICS
from metrics.formatting import display_digits, display_score
from surveys.enums import QuestionType
from surveys.instruments import INSTRUMENTS
from tests.reports.dashboard_support import add_touchpoint, make_journey

UNSCORED = ("exq", "mystery_shopping")


def sample_counts(definition: registry.MetricDefinition) -> dict:
    """Five answers at every value of the metric's raw answer scale."""
    if definition.name == "womi":
        return {(recommend, discourage): 5 for recommend in range(11) for discourage in (0, 10)}
    if definition.name == "rating":
        return {value: 5 for value in range(1, 6)}
    low = min(group.low for group in definition.groups)
    high = max(group.high for group in definition.groups)
    return {value: 5 for value in range(low, high + 1)}


@pytest.mark.parametrize("definition", registry.plannable(), ids=lambda d: d.name)
def test_every_plannable_metric_can_be_scored_from_counts(definition):
    counts = sample_counts(definition)
    score = definition.score(counts)
    assert score.metric == definition.name
    assert score.n == sum(counts.values())
    assert not score.hidden
    assert definition.scale_min <= Decimal(str(score.score)) <= definition.scale_max
    assert definition.scale_min <= Decimal(str(score.ci_low)) <= Decimal(str(score.ci_high))
    assert Decimal(str(score.ci_high)) <= definition.scale_max
    assert scores.rank_value(score) is not None


def test_metrics_without_a_scorer_are_known_but_not_offered():
    plannable = [name for name, _label in registry.plannable_choices()]
    for name in UNSCORED:
        assert registry.get(name) is not None
        assert name not in plannable
        assert name not in API_METRICS
        assert name in Metric.values  # stored plans still display their label
    assert "rating" in API_METRICS and "rating" not in plannable
    assert plannable == ["nps", "csat", "ces", "ces_legacy", "womi", "yes_no", "smiley", "emotion"]


def test_registry_agrees_with_the_metric_math_and_the_question_types():
    for definition in registry.METRICS.values():
        assert definition.higher_is_better is (definition.name not in scores.LOWER_IS_BETTER)
        for question_type in definition.question_types:
            assert question_type in QuestionType.values
            assert INSTRUMENTS[question_type].metric == definition.name
    for instrument in INSTRUMENTS.values():
        if instrument.metric:
            assert registry.is_scorable(instrument.metric), instrument.metric


def test_display_rounding_and_target_direction_come_from_the_registry():
    assert display_digits("ces") == 2 and display_digits("nps") == 1
    assert display_score("ces", 5.125) == 5.13
    assert display_score("nps", 12.25) == 12.3
    assert target_status(metric="ces_legacy", value=2.1, target=Decimal("2.5")) == "on_target"
    assert target_status(metric="nps", value=20, target=Decimal(25)) == "below"


def test_plan_form_offers_only_scorable_metrics_but_keeps_an_existing_plans_metric(db, org):
    offered = dict(MeasurementPlanForm().fields["metric"].choices)
    assert "exq" not in offered and "mystery_shopping" not in offered and "nps" in offered
    touchpoint = add_touchpoint(make_journey(org), metric=None)
    plan = MeasurementPlan.all_objects.create(organization=org, touchpoint=touchpoint, metric="exq")
    assert "exq" in dict(MeasurementPlanForm(instance=plan).fields["metric"].choices)


@pytest.mark.django_db
def test_an_exq_plan_cannot_be_made_through_the_page_or_the_api(cx_client, write_api, org):
    touchpoint = add_touchpoint(make_journey(org), metric=None)
    response = cx_client.post(
        f"/o/acme/touchpoints/{touchpoint.public_id}/plans/new/",
        {"metric": "exq", "kpi_kind": "operational"},
    )
    assert response.status_code == 400
    response = write_api.post(
        "/api/v1/orgs/acme/measurement-plans/",
        {"touchpoint": touchpoint.public_id, "metric": "mystery_shopping"},
        format="json",
    )
    assert response.status_code == 400
    assert "metric" in response.json()["extra"]["fields"]
    assert not MeasurementPlan.all_objects.filter(touchpoint=touchpoint).exists()
    assert write_api.get("/api/v1/orgs/acme/metrics/", {"metric": "exq"}).status_code == 400


@pytest.mark.django_db
def test_an_existing_exq_plan_keeps_its_target_editable(cx_client, org):
    touchpoint = add_touchpoint(make_journey(org), metric=None)
    plan = MeasurementPlan.all_objects.create(organization=org, touchpoint=touchpoint, metric="exq")
    response = cx_client.post(
        f"/o/acme/measurement-plans/{plan.public_id}/edit/",
        {"metric": "exq", "kpi_kind": "operational", "target_value": "5.5"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.target_value == Decimal("5.5")


@pytest.fixture
def unscored_plans(org):
    """A key touchpoint measured by EXQ and another by mystery shopping (rows from before)."""
    journey = make_journey(org)
    exq = add_touchpoint(journey, name="Store", metric=None)
    shop = add_touchpoint(journey, stage=1, name="Counter", metric=None)
    MeasurementPlan.all_objects.create(organization=org, touchpoint=exq, metric="exq")
    MeasurementPlan.all_objects.create(
        organization=org, touchpoint=shop, metric="mystery_shopping", target_value=Decimal(80)
    )
    return journey, exq, shop


@pytest.mark.django_db
def test_pages_and_kpis_with_unscorable_plans_answer_200(viewer_client, read_api, unscored_plans):
    journey, exq, shop = unscored_plans
    pages = [
        f"/o/acme/journeys/{journey.public_id}/",
        f"/o/acme/touchpoints/{exq.public_id}/",
        f"/o/acme/touchpoints/{shop.public_id}/",
        "/o/acme/",
        f"/o/acme/reports/touchpoints/{exq.public_id}/",
        f"/o/acme/reports/journeys/{journey.public_id}/",
        "/o/acme/reports/ranking/",
    ]
    for page in pages:
        assert viewer_client.get(page).status_code == 200, page
    response = read_api.get("/api/v1/orgs/acme/kpis/")
    assert response.status_code == 200
    rows = {row["metric"]: row for row in response.json()["results"]}
    assert rows["exq"]["status"] == "not_scored" and rows["exq"]["n"] == 0
    assert rows["mystery_shopping"]["current"] is None
