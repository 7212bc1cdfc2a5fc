"""The touchpoint dashboard: trends, distribution, period comparison and comments by score group."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from journeys.models import MeasurementPlan
from metrics import scores
from reports.charts import rounded
from tests.distribution.factories import SegmentFactory
from tests.reports.dashboard_support import (
    RANGE,
    add_touchpoint,
    answer,
    answer_many,
    at,
    make_journey,
    nps_survey,
    rebuild,
)

pytestmark = pytest.mark.django_db


def url(touchpoint, query: str = RANGE) -> str:
    return f"/o/{touchpoint.organization.slug}/reports/touchpoints/{touchpoint.public_id}/?{query}"


@pytest.fixture
def checkout(org):
    return add_touchpoint(make_journey(org), name="Checkout", target="30")


@pytest.fixture
def survey(checkout):
    return nps_survey(checkout)


@pytest.fixture
def march(survey, org):
    """March 2025: NPS 40 from 10 answers; February: NPS -20 from 5 (the range before is Q4)."""
    answer_many(survey, [10, 10, 9, 9, 9, 10, 7, 8], at(2025, 3, 10))
    answer(survey, 0, at(2025, 3, 11), comment="Slow delivery")
    answer(survey, 5, at(2025, 3, 12), comment="Too expensive")
    answer(survey, 10, at(2025, 3, 13), comment="Lovely staff")
    answer_many(survey, [9, 10, 2, 3, 4], at(2025, 2, 10))
    rebuild(org)
    return survey


def test_viewer_sees_the_score_with_n_interval_target_status_and_charts(
    viewer_client, checkout, march
):
    response = viewer_client.get(url(checkout))
    assert response.status_code == 200
    html = response.content.decode()
    expected = scores.nps({10: 5, 9: 4, 7: 1, 8: 1, 0: 1, 5: 1, 2: 1, 3: 1, 4: 1})
    assert expected.n == 16
    assert f'<strong class="figure-value">{rounded(expected.score, 1)}</strong>' in html
    assert f"95 % interval {rounded(expected.ci_low, 1)} to {rounded(expected.ci_high, 1)}" in html
    assert "n = 16" in html
    assert "Below target" in html and "✗" in html
    plan = MeasurementPlan.all_objects.get(touchpoint=checkout)
    assert f'id="chart-trend-{plan.public_id}"' in html
    assert f'id="chart-dist-{plan.public_id}"' in html
    assert "Table view" in html


def test_the_period_comparison_names_a_significant_change_in_points(
    viewer_client, checkout, march, org
):
    # Q4 2024 before the range: 20 detractors.
    survey = march
    answer_many(survey, [0] * 20, at(2024, 11, 5))
    rebuild(org)
    html = viewer_client.get(url(checkout)).content.decode()
    assert "Significant change:" in html and "points (p &lt; 0.001)" in html
    assert "No detectable change" not in html


def test_no_answers_before_says_no_detectable_change(viewer_client, checkout, march):
    html = viewer_client.get(url(checkout)).content.decode()
    assert "No detectable change" in html


def test_comments_show_their_scores_and_filter_by_score_group(viewer_client, checkout, march):
    html = viewer_client.get(url(checkout)).content.decode()
    for text in ("Slow delivery", "Too expensive", "Lovely staff"):
        assert text in html
    assert "NPS 0 · Detractors (0-6)" in html
    detractors = viewer_client.get(url(checkout, RANGE + "&group=nps:detractors"))
    assert detractors.status_code == 200
    html = detractors.content.decode()
    assert "Slow delivery" in html and "Too expensive" in html
    assert "Lovely staff" not in html
    promoters = viewer_client.get(url(checkout, RANGE + "&group=nps:promoters")).content.decode()
    assert "Lovely staff" in promoters and "Slow delivery" not in promoters


def test_comments_are_paginated_newest_first_and_links_keep_the_filters(
    viewer_client, checkout, survey, org
):
    for day in range(1, 26):
        answer(survey, 3, at(2025, 3, day), comment=f"Comment number {day:02d}")
    rebuild(org)
    html = viewer_client.get(url(checkout, RANGE + "&group=nps:detractors")).content.decode()
    assert html.index("Comment number 25") < html.index("Comment number 10")
    assert "Comment number 05" not in html  # on the page of older comments
    assert "group=nps%3Adetractors" in html and "from=2025-01-01" in html
    older = re.search(r'href="\?([^"]*after=[^"#]*)', html).group(1).replace("&amp;", "&")
    page_two = viewer_client.get(f"{url(checkout, '')}{older}").content.decode()
    assert "Comment number 05" in page_two and "Comment number 25" not in page_two
    assert "Comment number 01" in page_two and "Older" not in page_two
    tampered = viewer_client.get(url(checkout, RANGE + "&after=forged"))
    assert tampered.status_code == 200 and "Comment number 25" in tampered.content.decode()


@pytest.mark.parametrize(
    "query",
    ["group=nps:sometimes", "from=2025-02-30&to=2025-03-01&range=custom", "channel=carrier-pigeon"],
)
def test_bad_filters_are_form_errors_not_500(viewer_client, checkout, march, query):
    response = viewer_client.get(url(checkout, query))
    assert response.status_code == 400
    assert (
        'class="error"' in response.content.decode() or "form-errors" in response.content.decode()
    )


def test_filters_narrow_the_numbers_and_stay_in_the_url(viewer_client, checkout, survey, org):
    answer_many(survey, [10] * 6, at(2025, 3, 3), channel="email")
    answer_many(survey, [0] * 6, at(2025, 3, 3), channel="web")
    rebuild(org)
    html = viewer_client.get(url(checkout, RANGE + "&channel=email")).content.decode()
    assert '<strong class="figure-value">100.0</strong>' in html
    assert 'value="email" selected' in html


def test_a_plan_whose_metric_cannot_be_scored_yet_does_not_break_the_page(
    viewer_client, checkout, march
):
    MeasurementPlan.all_objects.create(
        organization=checkout.organization, touchpoint=checkout, metric="exq"
    )
    response = viewer_client.get(url(checkout))
    assert response.status_code == 200
    assert "cannot be scored yet" in response.content.decode()


def test_outsiders_get_404_and_another_organizations_touchpoint_is_404(
    outsider_client, viewer_client, checkout, other_org
):
    assert outsider_client.get(url(checkout)).status_code == 404
    foreign = add_touchpoint(make_journey(other_org), name="Theirs")
    assert viewer_client.get(f"/o/acme/reports/touchpoints/{foreign.public_id}/").status_code == 404


def test_queries_do_not_grow_with_responses_or_periods(
    viewer_client, checkout, survey, org, django_assert_max_num_queries
):
    answer(survey, 3, at(2025, 3, 1), comment="First")
    rebuild(org)
    viewer_client.get(url(checkout))  # warm the session
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(url(checkout, RANGE + "&period=month"))
    for day in range(1, 29):
        answer_many(survey, [day % 11, 10], at(2025, 2, day), comment=f"Later {day}")
    rebuild(org)
    busy = url(checkout, "range=custom&from=2024-01-01&to=2025-03-31&period=day")
    with django_assert_max_num_queries(len(few)):
        response = viewer_client.get(busy)
    assert response.status_code == 200
    assert len(re.findall(r"<li class=\"comment\">", response.content.decode())) == 20


def test_a_contact_segment_counts_only_its_contacts_invited_answers(
    viewer_client, checkout, march, org
):
    segment = SegmentFactory(organization=org)
    response = viewer_client.get(url(checkout, RANGE + f"&segment={segment.public_id}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "n = 0" in html and "No answers in this period." in html
    assert f'value="{segment.public_id}" selected' in html


def test_open_cases_of_the_touchpoint_are_listed_with_a_link(viewer_client, checkout, march, org):
    from alerts.services.cases import case_create
    from core.scoping import tenant_scope
    from tenancy.actors import Actor

    with tenant_scope(org):
        case = case_create(
            actor=Actor.system(org), organization=org, title="Rude cashier", touchpoint=checkout
        )
    html = viewer_client.get(url(checkout)).content.decode()
    assert "Open cases" in html
    assert f"/o/{org.slug}/cases/{case.public_id}/" in html
    assert "Rude cashier" in html


def test_a_hidden_score_draws_no_distribution_that_would_show_it(
    viewer_client, checkout, survey, org
):
    plan = MeasurementPlan.all_objects.get(touchpoint=checkout)
    answer_many(survey, [10, 9, 2], at(2025, 3, 10))
    rebuild(org)
    html = viewer_client.get(url(checkout)).content.decode()
    assert "not enough answers" in html and "n = 3" in html
    assert f'id="chart-dist-{plan.public_id}"' not in html

    answer_many(survey, [7, 0], at(2025, 3, 11))
    rebuild(org)
    html = viewer_client.get(url(checkout)).content.decode()
    assert f'id="chart-dist-{plan.public_id}"' in html
