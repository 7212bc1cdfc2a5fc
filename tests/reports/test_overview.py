"""The organization overview at /o/<org>/: key metrics per journey, movers, low-score comments,
and the getting-started checklist of a new organization."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import scores
from reports.charts import rounded
from tests.conftest import client_for
from tests.distribution.factories import SegmentFactory
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
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
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

HOME = "/o/acme/"


@pytest.fixture
def shop(org):
    """A journey with a key touchpoint (NPS, target 30) and a touchpoint that is not key."""
    journey = make_journey(org, "Web shop")
    key = add_touchpoint(journey, name="Checkout", target="30")
    other = add_touchpoint(journey, stage=1, name="Parcel locker", is_key=False)
    return journey, key, other


@pytest.fixture
def answered(shop, org):
    _journey, key, other = shop
    survey = nps_survey(key)
    answer_many(survey, [10, 10, 10, 9, 9, 8, 7, 6], at(2025, 3, 10))
    answer(survey, 2, at(2025, 3, 20), comment="The card payment failed twice")
    answer(survey, 10, at(2025, 3, 21), comment="Smooth and quick")
    answer_many(nps_survey(other, "Locker"), [0, 0, 0, 0, 0, 1, 9], at(2025, 3, 10))
    rebuild(org)
    return survey


def test_the_home_page_is_the_overview_with_key_metrics(viewer_client, shop, answered):
    response = viewer_client.get(f"{HOME}?{RANGE}")
    assert response.status_code == 200
    html = response.content.decode()
    expected = scores.nps({10: 4, 9: 2, 8: 1, 7: 1, 6: 1, 2: 1})
    assert f'<strong class="figure-value">{rounded(expected.score, 1)}</strong>' in html
    assert f"95 % interval {rounded(expected.ci_low, 1)} to {rounded(expected.ci_high, 1)}" in html
    assert "Key metrics" in html and "Checkout" in html
    assert ">10</td>" in html  # n
    status = "On target" if expected.score >= 30 else "Below target"
    assert status in html
    # The key touchpoint's 12-month sparkline, with its table for screen readers.
    assert html.count('class="chart chart-compact"') == 1
    assert "Parcel locker</a></th>" not in html  # not key: not among the key metrics


def test_the_overview_keeps_the_facts_of_the_organization(personas, shop):
    html = client_for(personas.analyst).get(HOME).content.decode()
    assert "Acme Oy" in html and "Analyst" in html and "Europe/Helsinki" in html


def test_significant_movers_are_listed_with_points_and_p(viewer_client, shop, answered, org):
    _journey, _key, other = shop
    # Q4 2024: the locker was loved, so its fall in Q1 2025 is a significant change.
    answer_many(nps_survey(other, "Locker before"), [10] * 10 + [7, 3], at(2024, 11, 10))
    rebuild(org)
    html = viewer_client.get(f"{HOME}?{RANGE}").content.decode()
    movers = html[html.index("Significant movers") : html.index("Newest low-score comments")]
    assert "Parcel locker" in movers
    assert "Significant change: -" in movers and "points (p" in movers
    assert "Checkout" not in movers  # nothing to compare with


def test_no_movers_says_no_detectable_change(viewer_client, shop, answered):
    html = viewer_client.get(f"{HOME}?{RANGE}").content.decode()
    assert "No detectable change in any planned metric." in html


def test_newest_low_score_comments_only(viewer_client, shop, answered, other_org):
    foreign = make_survey(other_org, touchpoint=add_touchpoint(make_journey(other_org)))
    answer(foreign, 1, at(2025, 3, 22), comment="Rival's secret complaint")
    html = viewer_client.get(f"{HOME}?{RANGE}").content.decode()
    comments = html[html.index("Newest low-score comments") :]
    assert "The card payment failed twice" in comments
    assert "NPS 2 · Detractors (0-6)" in comments
    assert "Smooth and quick" not in comments
    assert "Rival&#x27;s secret complaint" not in html and "secret complaint" not in html


def test_at_most_ten_comments_newest_first(viewer_client, shop, org):
    survey = nps_survey(shop[1])
    for day in range(1, 13):
        answer(survey, 1, at(2025, 3, day), comment=f"Complaint of day {day:02d}")
    html = viewer_client.get(f"{HOME}?{RANGE}").content.decode()
    assert html.count('<li class="comment">') == 10
    assert "Complaint of day 12" in html and "Complaint of day 02" not in html
    assert html.index("day 12") < html.index("day 11")


def test_a_new_organization_sees_the_getting_started_checklist(client):
    owner = UserFactory()
    fresh = OrganizationFactory(name="Fresh Oy", slug="fresh")
    MembershipFactory(organization=fresh, user=owner, role="owner")
    client.force_login(owner)
    html = client.get("/o/fresh/").content.decode()
    assert "Getting started" in html
    for link in (
        'href="/o/fresh/journeys/"',
        'href="/o/fresh/surveys/"',
        'href="/o/fresh/members/"',
    ):
        assert link in html
    assert html.count("(to do)") == 5


def test_the_checklist_ticks_what_is_done_and_leaves_when_all_is(
    viewer_client, personas, shop, answered
):
    # acme has a journey, a plan, a published survey, responses and several members.
    html = viewer_client.get(HOME).content.decode()
    assert "Getting started" not in html


def test_filters_narrow_the_overview_and_links_keep_them(viewer_client, shop, org):
    survey = nps_survey(shop[1])
    answer_many(survey, [10] * 6, at(2025, 3, 3), channel="email")
    answer_many(survey, [0] * 6, at(2025, 3, 3), channel="sms")
    rebuild(org)
    html = viewer_client.get(f"{HOME}?{RANGE}&channel=email").content.decode()
    assert '<strong class="figure-value">100.0</strong>' in html
    touchpoint_link = f"/o/acme/reports/touchpoints/{shop[1].public_id}/?range=custom"
    assert touchpoint_link in html and "channel=email" in html


@pytest.mark.parametrize("query", ["range=custom&from=2025-04-01&to=2025-03-01", "survey=srv_nope"])
def test_bad_filters_answer_400_with_the_error_on_the_page(viewer_client, shop, query):
    response = viewer_client.get(f"{HOME}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "form-errors" in html or 'class="error"' in html
    assert "Key metrics" in html


def test_outsiders_get_404(outsider_client, shop):
    assert outsider_client.get(HOME).status_code == 404


def test_queries_do_not_grow_with_journeys_touchpoints_or_responses(
    viewer_client, org, shop, django_assert_max_num_queries
):
    survey = nps_survey(shop[1])
    answer(survey, 1, at(2025, 3, 1), comment="One")
    rebuild(org)
    viewer_client.get(HOME)
    with CaptureQueriesContext(connection) as few:
        assert viewer_client.get(f"{HOME}?{RANGE}").status_code == 200
    for number in range(4):
        journey = make_journey(org, f"Journey {number}")
        for position in range(3):
            touchpoint = add_touchpoint(journey, name=f"Touchpoint {number}.{position}")
            extra = nps_survey(touchpoint, f"Survey {number}.{position}")
            for day in (2, 9, 16):
                answer_many(extra, [day % 11, 10, 3], at(2025, 2, day), comment="More")
    rebuild(org)
    with django_assert_max_num_queries(len(few)):
        response = viewer_client.get(f"{HOME}?{RANGE}&period=day")
    assert response.status_code == 200
    assert response.content.decode().count('class="chart chart-compact"') == 13


def test_a_contact_segment_reads_raw_answers_without_error(viewer_client, org, shop, answered):
    segment = SegmentFactory(organization=org)
    response = viewer_client.get(f"{HOME}?{RANGE}&segment={segment.public_id}")
    assert response.status_code == 200
    assert "Key metrics" in response.content.decode()
