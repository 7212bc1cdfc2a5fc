"""Ranking that is honest about small samples (METRICS.md): score - 160/sqrt(n) for NPS, the
lower interval bound otherwise, and no rank below 5 answers; stores via a hidden field."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import scores
from reports.charts import rounded
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

URL = "/o/acme/reports/ranking/"


@pytest.fixture
def units(org):
    """Tiny: 5 answers, NPS 100. Big: 100 answers, NPS 60. Few: 3 answers."""
    journey = make_journey(org)
    tiny = add_touchpoint(journey, name="Tiny kiosk")
    big = add_touchpoint(journey, name="Big store")
    few = add_touchpoint(journey, name="Pop-up")
    answer_many(nps_survey(tiny, "T"), [10] * 5, at(2025, 3, 1))
    answer_many(nps_survey(big, "B"), [10] * 70 + [7] * 20 + [0] * 10, at(2025, 3, 2))
    answer_many(nps_survey(few, "F"), [10] * 3, at(2025, 3, 3))
    rebuild(org)
    return tiny, big, few


def test_small_units_cannot_top_the_ranking_on_luck(viewer_client, units):
    response = viewer_client.get(f"{URL}?{RANGE}&metric=nps&by=touchpoint")
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert table.index("Big store") < table.index("Tiny kiosk") < table.index("Pop-up")
    assert "score − 160 / √n" in html
    big = 60 - 160 / math.sqrt(100)
    tiny = 100 - 160 / math.sqrt(5)
    assert big > tiny
    assert f"<td>{rounded(big, 1)}</td>" in table and f"<td>{rounded(tiny, 1)}</td>" in table
    assert "not ranked: fewer than 5 answers" in table.split("Pop-up")[1]


def test_the_ranking_shows_each_units_score_and_interval(viewer_client, units):
    html = viewer_client.get(f"{URL}?{RANGE}").content.decode()
    expected = scores.nps({10: 70, 7: 20, 0: 10})
    assert f"95 % interval {rounded(expected.ci_low, 1)} to {rounded(expected.ci_high, 1)}" in html
    assert 'id="chart-rank-nps"' in html


def test_stores_rank_by_a_hidden_field_in_one_query(
    viewer_client, org, django_assert_max_num_queries
):
    survey = nps_survey(add_touchpoint(make_journey(org), name="Stores"))
    for store, values in {
        "Kamppi": [10] * 9 + [9],
        "Itis": [10] * 6 + [0] * 4,
        "Tiny": [10],
    }.items():
        for value in values:
            answer(survey, value, at(2025, 3, 4), hidden_fields={"store": store})
    answer(survey, 0, at(2025, 3, 4))  # no store: not a unit
    viewer_client.get(URL)
    with CaptureQueriesContext(connection) as few:
        response = viewer_client.get(f"{URL}?{RANGE}&by=hidden:store")
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert table.index("Kamppi") < table.index("Itis") < table.index("Tiny")
    assert "not ranked" in table.split("Tiny")[1]
    assert 'name="by" value="hidden:store"' in html  # the filter form keeps the choice
    for number in range(30):
        answer_many(
            survey, [number % 11] * 5, at(2025, 3, 5), hidden_fields={"store": f"S{number}"}
        )
    with django_assert_max_num_queries(len(few)):
        response = viewer_client.get(f"{URL}?{RANGE}&by=hidden:store")
    assert response.content.decode().count('<th scope="row">S') >= 30


def test_hidden_fields_of_other_organizations_stay_out(viewer_client, org, other_org):
    theirs = make_survey(other_org, touchpoint=add_touchpoint(make_journey(other_org)))
    answer_many(theirs, [10] * 6, at(2025, 3, 4), hidden_fields={"store": "Rival store"})
    html = viewer_client.get(f"{URL}?{RANGE}&by=hidden:store").content.decode()
    assert "Rival store" not in html


@pytest.mark.parametrize(
    "query", ["by=shoe-size", "by=hidden:bad%20name!", "by=hidden", "metric=exq", "period=hour"]
)
def test_bad_choices_are_form_errors_not_500(viewer_client, units, query):
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_touchpoint_ranking_queries_do_not_grow_with_touchpoints(
    viewer_client, org, units, django_assert_max_num_queries
):
    viewer_client.get(URL)
    with CaptureQueriesContext(connection) as few:
        response = viewer_client.get(f"{URL}?{RANGE}")
    assert response.status_code == 200
    journey = make_journey(org, "More")
    for number in range(10):
        touchpoint = add_touchpoint(journey, name=f"Extra {number}")
        answer_many(nps_survey(touchpoint, f"E{number}"), [number, 10, 9, 8, 7], at(2025, 1, 5))
    rebuild(org)
    with django_assert_max_num_queries(len(few)):
        response = viewer_client.get(f"{URL}?{RANGE}")
    assert response.status_code == 200
    assert "Extra 9" in response.content.decode()


def test_viewers_read_and_outsiders_get_404(viewer_client, outsider_client, units):
    assert viewer_client.get(URL).status_code == 200
    assert outsider_client.get(URL).status_code == 404
    assert viewer_client.post(URL).status_code in (403, 405)
