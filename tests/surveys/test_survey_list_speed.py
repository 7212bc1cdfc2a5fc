"""The survey list stays flat: it shows each survey's response count without counting responses.

`Survey.response_count` is kept by the response path; these tests pin that the list never reads
the response table (so its cost cannot grow with responses) and that the count stays right
through submissions, replays, deletions, builder saves and bulk loads.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.models import Response, Survey
from surveys.services import response_submit, survey_response_counts_refresh, survey_update
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_link, make_survey, make_touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return make_survey(org, name="Store NPS", touchpoint=make_touchpoint(org, "Store"))


def submit(org, survey, score=9, **options):
    with tenant_scope(org):
        return response_submit(
            organization=org,
            survey=survey,
            answers={"score": score},
            channel="web",
            language="fi",
            **options,
        )


def count_of(survey) -> int:
    return Survey.all_objects.get(pk=survey.pk).response_count


def list_row(html: str, name: str) -> str:
    return html.split(f"{name}</a>")[1].split("</tr>")[0]


def test_list_shows_response_count_without_reading_responses(cx_client, org, survey):
    for score in (10, 3, 8):
        submit(org, survey, score)
    with CaptureQueriesContext(connection) as queries:
        response = cx_client.get("/o/acme/surveys/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>3</td>" in list_row(html, "Store NPS")
    assert not [q["sql"] for q in queries.captured_queries if "surveys_response" in q["sql"]]


def test_list_costs_the_same_with_one_response_or_thirty(cx_client, org, survey):
    submit(org, survey)
    cx_client.get("/o/acme/surveys/")
    with CaptureQueriesContext(connection) as one:
        response = cx_client.get("/o/acme/surveys/")
    assert response.status_code == 200
    for _ in range(29):
        submit(org, survey)
    with CaptureQueriesContext(connection) as thirty:
        response = cx_client.get("/o/acme/surveys/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>30</td>" in list_row(html, "Store NPS")
    assert len(thirty.captured_queries) == len(one.captured_queries)


def test_a_replayed_submission_is_counted_once(org, survey):
    submit(org, survey, idempotency_key="kiosk-1")
    again = submit(org, survey, idempotency_key="kiosk-1")
    assert again.replayed
    link = make_link(survey)
    submit(org, survey, personal_link=link)
    assert submit(org, survey, personal_link=link).replayed
    assert count_of(survey) == 2


def test_deleting_a_response_lowers_the_count(org, survey):
    first = submit(org, survey)
    submit(org, survey)
    with tenant_scope(org):
        first.delete()
        Response.objects.filter(organization=org, survey=survey).delete()
    assert count_of(survey) == 0


def test_builder_edits_do_not_write_back_a_stale_count(org, survey, personas):
    from tenancy.actors import Actor
    from tenancy.models import Membership

    loaded = Survey.all_objects.get(pk=survey.pk)  # read before the responses arrive
    submit(org, survey)
    submit(org, survey)
    actor = Actor.for_membership(
        Membership.all_objects.get(user=personas.cx_manager, organization=org)
    )
    with tenant_scope(org):
        survey_update(actor=actor, survey=loaded, name="Store NPS, renamed")
    loaded.save()
    assert count_of(survey) == 2
    assert Survey.all_objects.get(pk=survey.pk).name == "Store NPS, renamed"


def test_recount_repairs_counts_after_a_bulk_load(org, other_org, survey):
    submit(org, survey)
    submit(org, survey)
    rival = make_survey(other_org, name="Rival NPS")
    submit(other_org, rival)
    Survey.all_objects.filter(pk__in=[survey.pk, rival.pk]).update(response_count=0)
    with tenant_scope(org):
        assert survey_response_counts_refresh(organization=org) == 1
    assert count_of(survey) == 2
    assert count_of(rival) == 0  # another organization's surveys are left alone


def test_api_list_gives_the_count_without_reading_responses(read_api, org, survey, personas):
    submit(org, survey)
    read_api.get("/api/v1/orgs/acme/surveys/")
    with CaptureQueriesContext(connection) as one:
        listed = read_api.get("/api/v1/orgs/acme/surveys/")
    assert listed.json()["results"][0]["response_count"] == 1
    for _ in range(29):
        submit(org, survey)
    with CaptureQueriesContext(connection) as thirty:
        listed = read_api.get("/api/v1/orgs/acme/surveys/")
    assert listed.json()["results"][0]["response_count"] == 30
    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert not [q["sql"] for q in thirty.captured_queries if "surveys_response" in q["sql"]]
