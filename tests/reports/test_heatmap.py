"""The journey heatmap: touchpoints by status against target (in words and symbols), pooled stage
figures and the stage-by-stage curve."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import scores
from reports.charts import rounded
from tests.reports.dashboard_support import (
    RANGE,
    add_touchpoint,
    answer_many,
    at,
    make_journey,
    nps_survey,
    rebuild,
)

pytestmark = pytest.mark.django_db


def url(journey, query: str = RANGE) -> str:
    return f"/o/{journey.organization.slug}/reports/journeys/{journey.public_id}/?{query}"


@pytest.fixture
def journey(org):
    """Buy: Checkout (NPS target 30) and Payment (NPS target 90); Get: Delivery (CSAT)."""
    journey = make_journey(org)
    checkout = add_touchpoint(journey, name="Checkout", target="30")
    payment = add_touchpoint(journey, name="Payment", target="90")
    add_touchpoint(journey, stage=1, name="Delivery", metric="csat", target="80")
    answer_many(nps_survey(checkout), [10] * 8 + [9, 6], at(2025, 3, 5))  # NPS 80
    answer_many(nps_survey(payment, "Pay"), [10] * 3 + [8, 8, 0], at(2025, 3, 6))  # NPS 33.3
    rebuild(org)
    return journey


def test_tiles_say_their_status_in_words_and_symbols(viewer_client, journey):
    response = viewer_client.get(url(journey))
    assert response.status_code == 200
    html = response.content.decode()
    checkout = html[html.index(">Checkout<") : html.index(">Payment<")]
    assert "heat-on_target" in html[: html.index(">Checkout<")][-400:]
    assert "✓" in checkout and "On target" in checkout
    payment = html[html.index(">Payment<") : html.index(">Delivery<")]
    assert "✗" in payment and "Below target" in payment
    delivery = html[html.index(">Delivery<") :]
    assert "No data yet" in delivery


def test_stage_figures_pool_the_answers_of_the_stages_touchpoints(viewer_client, journey):
    html = viewer_client.get(url(journey)).content.decode()
    pooled = scores.nps({10: 11, 9: 1, 8: 2, 6: 1, 0: 1})
    assert pooled.n == 16
    buy = html[html.index('class="stage-name">Buy') : html.index('class="stage-name">Get')]
    assert f'<strong class="figure-value">{rounded(pooled.score, 1)}</strong>' in buy
    assert "n = 16" in buy
    assert 'id="chart-stages-' in html and "Stage by stage" in html


def test_the_chosen_metric_drives_the_curve_and_the_colours(viewer_client, journey):
    response = viewer_client.get(url(journey, RANGE + "&metric=csat"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "CSAT %, " in html
    assert 'name="metric" value="csat"' in html  # the filter form keeps the metric


@pytest.mark.parametrize("query", ["metric=exq", "metric=bogus", "range=yesterday"])
def test_bad_choices_are_form_errors_not_500(viewer_client, journey, query):
    response = viewer_client.get(url(journey, query))
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_outsiders_and_other_organizations_journeys_get_404(
    outsider_client, viewer_client, journey, other_org
):
    assert outsider_client.get(url(journey)).status_code == 404
    theirs = make_journey(other_org)
    assert viewer_client.get(f"/o/acme/reports/journeys/{theirs.public_id}/").status_code == 404


def test_queries_do_not_grow_with_stages_touchpoints_or_responses(
    viewer_client, org, journey, django_assert_max_num_queries
):
    viewer_client.get(url(journey))
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(url(journey))
    for number in range(8):
        touchpoint = add_touchpoint(journey, stage=number % 2, name=f"More {number}")
        answer_many(nps_survey(touchpoint, f"S{number}"), [number, 10, 9], at(2025, 2, 1 + number))
    rebuild(org)
    with django_assert_max_num_queries(len(few)):
        response = viewer_client.get(url(journey, RANGE + "&period=day"))
    assert response.status_code == 200
    assert response.content.decode().count("heat-tile") == 11
