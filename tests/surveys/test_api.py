from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Question, Response, Survey
from tests.surveys.factories import make_link, make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"


@pytest.fixture
def survey(org):
    return make_survey(org)


def response_body(survey, **overrides):
    body = {
        "survey": survey.public_id,
        "channel": "phone",
        "language": "fi",
        "answers": [{"question": "score", "value": 4}, {"question": "improve", "value": "Wait"}],
    }
    body.update(overrides)
    return body


# --- surveys, versions, questions ---


def test_key_builds_and_publishes_a_survey(write_api, personas, org):
    touchpoint = make_touchpoint(org)
    created = write_api.post(
        f"{BASE}/surveys/",
        {"name": "Support", "touchpoint": touchpoint.public_id, "languages": ["fi", "en"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    survey_id = created.json()["id"]
    assert created.json()["touchpoint"] == touchpoint.public_id
    assert created.json()["status"] == "draft" and created.json()["current_version"] is None
    refused = write_api.post(f"{BASE}/surveys/{survey_id}/publish/")
    assert refused.status_code == 400 and refused.json()["code"] == "survey_invalid"
    assert refused.json()["extra"]["problems"][0]["code"] == "no_questions"
    question = write_api.post(
        f"{BASE}/surveys/{survey_id}/questions/",
        {
            "type": "ces",
            "key": "effort",
            "texts": texts("Easy", ("fi", "en")),
            "labels": {"fi": {"min": "a", "max": "b"}, "en": {"min": "a", "max": "b"}},
            "required": True,
        },
        format="json",
    )
    assert question.status_code == 201, question.json()
    assert question.json()["scale_max"] == 7 and question.json()["metric"] == "ces"
    published = write_api.post(f"{BASE}/surveys/{survey_id}/publish/")
    assert published.status_code == 200 and published.json()["number"] == 1
    detail = write_api.get(f"{BASE}/surveys/{survey_id}/").json()
    assert detail["status"] == "published" and detail["current_version"] == published.json()["id"]


def test_survey_from_template_and_its_versions(write_api, personas):
    created = write_api.post(
        f"{BASE}/surveys/", {"name": "NPS", "template": "nps"}, format="json"
    ).json()
    write_api.post(f"{BASE}/surveys/{created['id']}/publish/")
    versions = write_api.get(f"{BASE}/surveys/{created['id']}/versions/").json()
    assert [v["number"] for v in versions] == [1]
    assert [q["key"] for q in versions[0]["questions"]] == ["score", "improve", "better", "liked"]


def test_editing_a_question_of_a_published_survey_makes_a_draft(
    write_api, personas, survey, scoped
):
    question = survey.current_version.questions.get(key="improve")
    changed = write_api.patch(
        f"{BASE}/surveys/{survey.public_id}/questions/{question.public_id}/",
        {"texts": texts("What went wrong?")},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["id"] != question.public_id
    versions = write_api.get(f"{BASE}/surveys/{survey.public_id}/versions/").json()
    assert [(v["number"], v["status"]) for v in versions] == [(2, "draft"), (1, "published")]
    assert Question.all_objects.get(pk=question.pk).texts == texts("Improve")


def test_question_move_and_delete(write_api, personas, survey):
    url = f"{BASE}/surveys/{survey.public_id}/questions/"
    liked = next(q for q in write_api.get(url).json() if q["key"] == "liked")
    moved = write_api.post(f"{url}{liked['id']}/move/", {"position": 0}, format="json")
    assert moved.status_code == 200
    assert [q["key"] for q in write_api.get(url).json()] == ["liked", "score", "improve"]
    draft_improve = next(q for q in write_api.get(url).json() if q["key"] == "improve")
    assert write_api.delete(f"{url}{draft_improve['id']}/").status_code == 204
    assert [q["key"] for q in write_api.get(url).json()] == ["liked", "score"]


def test_invalid_question_is_a_field_error(write_api, personas, survey):
    response = write_api.post(
        f"{BASE}/surveys/{survey.public_id}/questions/",
        {"type": "rating", "texts": texts("R"), "scale_min": 3, "scale_max": 2},
        format="json",
    )
    assert response.status_code == 400 and response.json()["extra"] == {"field": "scale_min"}


def test_close_reopen_export_and_import(write_api, personas, survey):
    assert write_api.post(f"{BASE}/surveys/{survey.public_id}/close/").json()["status"] == "closed"
    assert (
        write_api.post(f"{BASE}/surveys/{survey.public_id}/reopen/").json()["status"] == "published"
    )
    exported = write_api.get(f"{BASE}/surveys/{survey.public_id}/export/").json()
    assert exported["format"] == "cxplatform.survey"
    imported = write_api.post(f"{BASE}/surveys/import/", exported, format="json")
    assert imported.status_code == 201 and imported.json()["status"] == "draft"
    broken = write_api.post(f"{BASE}/surveys/import/", {"format": "x"}, format="json")
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_survey_file"


def test_update_survey_name_and_languages(write_api, personas, survey):
    response = write_api.patch(
        f"{BASE}/surveys/{survey.public_id}/",
        {"name": "Renamed", "languages": ["en"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["languages"] == ["en"] and response.json()["default_language"] == "en"


# --- responses ---


def test_key_posts_a_response_collected_elsewhere(write_api, personas, survey, scoped):
    touchpoint = make_touchpoint(scoped)
    when = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    question_id = survey.current_version.questions.get(key="score").public_id
    response = write_api.post(
        f"{BASE}/responses/",
        response_body(
            survey,
            touchpoint=touchpoint.public_id,
            submitted_at=when.isoformat(),
            hidden_fields={"agent": "A7"},
            answers=[
                {"question": question_id, "value": 10},
                {"question": "liked", "value": "Fast"},
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("rsp_") and body["touchpoint"] == touchpoint.public_id
    assert body["channel"] == "phone" and body["version"] == 1
    assert body["hidden_fields"] == {"agent": "A7"}
    assert body["answers"] == [
        {"question": question_id, "key": "score", "value": 10},
        {
            "question": survey.current_version.questions.get(key="liked").public_id,
            "key": "liked",
            "value": "Fast",
        },
    ]


def test_invalid_answers_are_reported_per_question(write_api, personas, survey):
    response = write_api.post(
        f"{BASE}/responses/",
        response_body(survey, answers=[{"question": "score", "value": 7.5}]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_answers"
    assert response.json()["extra"]["fields"] == {"score": ["Enter a whole number."]}


def test_idempotency_key_replays_the_same_response_with_200(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "callcentre-991"}
    first = write_api.post(f"{BASE}/responses/", response_body(survey), format="json", **headers)
    second = write_api.post(f"{BASE}/responses/", response_body(survey), format="json", **headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and Response.all_objects.count() == 1


def test_response_to_unknown_survey_is_a_field_error(write_api, personas, other_org):
    foreign = make_survey(other_org)
    response = write_api.post(f"{BASE}/responses/", response_body(foreign), format="json")
    assert response.status_code == 400 and response.json()["extra"] == {"field": "survey"}


def test_response_list_filters(write_api, personas, survey, org):
    touchpoint = make_touchpoint(org)
    other = make_survey(org, name="Other")
    write_api.post(f"{BASE}/responses/", response_body(survey, channel="kiosk"), format="json")
    write_api.post(
        f"{BASE}/responses/",
        response_body(
            survey,
            touchpoint=touchpoint.public_id,
            submitted_at=(timezone.now() - timedelta(days=10)).isoformat(),
        ),
        format="json",
    )
    write_api.post(f"{BASE}/responses/", response_body(other), format="json")

    def ids(query):
        response = write_api.get(f"{BASE}/responses/?{query}")
        assert response.status_code == 200, response.json()
        return len(response.json()["results"])

    assert ids("") == 3
    assert ids(f"survey={survey.public_id}") == 2
    assert ids(f"touchpoint={touchpoint.public_id}") == 1
    assert ids("channel=kiosk") == 1
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert ids(f"submitted_after={since}") == 2
    assert ids(f"submitted_before={since}") == 1
    assert write_api.get(f"{BASE}/responses/?survey=srv_nope").status_code == 400
    assert write_api.get(f"{BASE}/responses/?submitted_after=yesterday").status_code == 400


def test_response_list_pages_with_a_cursor(write_api, personas, survey):
    for _ in range(5):
        write_api.post(f"{BASE}/responses/", response_body(survey), format="json")
    first = write_api.get(f"{BASE}/responses/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = write_api.get(first["next"]).json()
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_response_list_costs_the_same_queries_for_any_page(
    read_api, personas, survey, org, django_assert_num_queries
):
    from surveys.services import response_submit
    from tenancy.scoping import tenant_scope

    def add(count):
        with tenant_scope(org):
            for _ in range(count):
                response_submit(
                    organization=org,
                    survey=survey,
                    answers={"score": 3, "improve": "x"},
                    channel="web",
                    language="fi",
                )

    add(2)
    read_api.get(f"{BASE}/responses/")  # warm the key's last-used stamp
    # The organization, the key, one query for the page of responses (survey, version and
    # touchpoint joined) and one for all their answers with their questions.
    with django_assert_num_queries(4) as small:
        response = read_api.get(f"{BASE}/responses/")
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    add(20)
    with django_assert_num_queries(len(small.captured_queries)):
        response = read_api.get(f"{BASE}/responses/")
    assert response.status_code == 200 and len(response.json()["results"]) == 22


def test_response_detail(read_api, personas, survey, org):
    from surveys.services import response_submit
    from tenancy.scoping import tenant_scope

    with tenant_scope(org):
        response = response_submit(
            organization=org, survey=survey, answers={"score": 9}, channel="web", language="fi"
        )
    body = read_api.get(f"{BASE}/responses/{response.public_id}/").json()
    assert body["answers"][0]["value"] == 9


# The CSV import of historical responses is at /response-imports/ (test_response_import.py).


# --- who may do what ---


def test_read_key_and_viewer_cannot_write(read_api, viewer_client, personas, survey):
    assert (
        read_api.post(f"{BASE}/responses/", response_body(survey), format="json").status_code == 403
    )
    assert read_api.post(f"{BASE}/surveys/", {"name": "x"}, format="json").status_code == 403
    assert read_api.post(f"{BASE}/surveys/{survey.public_id}/publish/").status_code == 403
    assert read_api.get(f"{BASE}/surveys/").status_code == 200
    assert (
        viewer_client.post(
            f"{BASE}/surveys/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert viewer_client.get(f"{BASE}/responses/").status_code == 200
    assert Survey.all_objects.count() == 1


def test_outsiders_get_404_for_everything(outsider_api, outsider_client, personas, survey, scoped):
    link = make_link(survey)  # noqa: F841
    question = survey.current_version.questions.first()
    urls = [
        f"{BASE}/surveys/",
        f"{BASE}/surveys/{survey.public_id}/",
        f"{BASE}/surveys/{survey.public_id}/versions/",
        f"{BASE}/surveys/{survey.public_id}/questions/{question.public_id}/",
        f"{BASE}/responses/",
    ]
    for url in urls:
        assert outsider_api.get(url).status_code == 404, url
        assert outsider_client.get(url).status_code == 404, url
    assert (
        outsider_api.post(f"{BASE}/responses/", response_body(survey), format="json").status_code
        == 404
    )


def test_other_organizations_survey_ids_answer_404_in_our_urls(write_api, personas, other_org):
    foreign = make_survey(other_org)
    assert write_api.get(f"{BASE}/surveys/{foreign.public_id}/").status_code == 404
    assert write_api.get(f"{BASE}/surveys/{foreign.public_id}/questions/").status_code == 404


def test_api_schema_of_the_surveys_endpoints_builds():
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.routers import SimpleRouter

    from surveys.api import API_ROUTES

    router = SimpleRouter()
    for prefix, viewset, basename in API_ROUTES:
        router.register(prefix, viewset, basename=basename)
    patterns = [path("api/v1/orgs/<slug:org_slug>/", include(router.urls))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    assert "/api/v1/orgs/{org_slug}/responses/bulk/" in schema["paths"]
    assert "/api/v1/orgs/{org_slug}/surveys/{id}/publish/" in schema["paths"] or any(
        path.endswith("/publish/") for path in schema["paths"]
    )


def test_survey_list_and_questions_cost_fixed_queries(
    read_api, personas, org, django_assert_num_queries
):
    survey = make_survey(org, touchpoint=make_touchpoint(org))
    read_api.get(f"{BASE}/surveys/")
    with django_assert_num_queries(3) as one:
        response = read_api.get(f"{BASE}/surveys/")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    for number in range(5):
        make_survey(org, name=f"S{number}", touchpoint=make_touchpoint(org, f"T{number}"))
    with django_assert_num_queries(len(one.captured_queries)):
        response = read_api.get(f"{BASE}/surveys/")
    assert response.status_code == 200 and len(response.json()["results"]) == 6
    with django_assert_num_queries(5):  # org, key, survey, draft lookup, questions
        response = read_api.get(f"{BASE}/surveys/{survey.public_id}/questions/")
    assert response.status_code == 200 and len(response.json()) == 3
    with django_assert_num_queries(5):  # org, key, survey, versions, their questions
        response = read_api.get(f"{BASE}/surveys/{survey.public_id}/versions/")
    assert response.status_code == 200 and len(response.json()) == 1


def test_too_long_idempotency_key_is_refused(write_api, personas, survey):
    response = write_api.post(
        f"{BASE}/responses/", response_body(survey), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert response.status_code == 400 and "idempotency_key" in response.json()["extra"]["fields"]
