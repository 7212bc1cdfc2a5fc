"""Input the database cannot store or the code cannot take is a 400 (413 for a body too large) in
the API's error format, or a form error on the respondent page; never a 500."""

import json

import pytest

from surveys.models import Question, Response
from tests.distribution.factories import reachable_contact
from tests.surveys.factories import make_link, make_survey

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"
SHAPE = {"message", "code", "extra"}


@pytest.fixture
def survey(org):
    return make_survey(org)


@pytest.fixture
def api(write_api, personas):
    return write_api


def answers_body(survey, text_json: str) -> str:
    """A response whose text answer is `text_json`, written as raw JSON (escapes kept)."""
    return (
        f'{{"survey": "{survey.public_id}", "channel": "phone", "language": "fi", '
        f'"answers": [{{"question": "score", "value": 3}}, '
        f'{{"question": "improve", "value": {text_json}}}]}}'
    )


def deep(levels: int) -> str:
    return '{"name": ' + '{"a": ' * levels + "1" + "}" * levels + "}"


def bad_requests(survey, contact) -> dict:
    """name -> (method, path, body or None, expected status, expected field or code)."""
    question = Question.all_objects.filter(version=survey.current_version).first()
    return {
        "nul in path": ("get", f"{BASE}/surveys/srv_%00x/", None, 400, "invalid"),
        "nul in query": ("get", f"{BASE}/responses/?survey=a%00b", None, 400, "invalid"),
        "nul in query key": ("get", f"{BASE}/responses/?a%00=1", None, 400, "invalid"),
        "nul in text answer": (
            "post",
            f"{BASE}/responses/",
            answers_body(survey, '"fine\\u0000not"'),
            400,
            "answers.1.value",
        ),
        "lone surrogate in text answer": (
            "post",
            f"{BASE}/responses/",
            answers_body(survey, '"\\ud800"'),
            400,
            "answers.1.value",
        ),
        "json nested 1000 deep": ("post", f"{BASE}/journeys/", deep(1000), 400, "parse_error"),
        "json nested 40 deep": ("post", f"{BASE}/journeys/", deep(40), 400, "parse_error"),
        "delay of 20 digits": (
            "post",
            f"{BASE}/invitations/",
            json.dumps(
                {
                    "contact": contact.public_id,
                    "survey": survey.public_id,
                    "channel": "email",
                    "delay": "9" * 20,
                }
            ),
            400,
            "delay",
        ),
        "delay over 60 days": (
            "post",
            f"{BASE}/invitations/",
            json.dumps(
                {
                    "contact": contact.public_id,
                    "survey": survey.public_id,
                    "channel": "email",
                    "delay": "P61D",
                }
            ),
            400,
            "delay",
        ),
        "impossible date filter": (
            "get",
            f"{BASE}/responses/?submitted_after=2026-02-30",
            None,
            400,
            "submitted_after",
        ),
        "array for an object": ("post", f"{BASE}/journeys/", "[]", 400, "parse_error"),
        "array for a move": (
            "post",
            f"{BASE}/surveys/{survey.public_id}/questions/{question.public_id}/move/",
            "[1]",
            400,
            "parse_error",
        ),
        "number for an object": ("post", f"{BASE}/journeys/", "7", 400, "parse_error"),
    }


CASES = [
    "nul in path",
    "nul in query",
    "nul in query key",
    "nul in text answer",
    "lone surrogate in text answer",
    "json nested 1000 deep",
    "json nested 40 deep",
    "delay of 20 digits",
    "delay over 60 days",
    "impossible date filter",
    "array for an object",
    "array for a move",
    "number for an object",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_api_input_is_a_400_in_the_error_format(api, org, survey, case):
    contact = reachable_contact(org, email="anna@example.fi")
    method, path, body, status, where = bad_requests(survey, contact)[case]
    if body is None:
        response = getattr(api, method)(path)
    else:
        response = getattr(api, method)(path, body, content_type="application/json")

    assert response.status_code == status, response.content[:300]
    payload = response.json()
    assert set(payload) == SHAPE
    fields = payload["extra"].get("fields", {})
    assert where in (payload["code"], payload["extra"].get("field"), *fields), payload
    assert Response.all_objects.count() == 0


def test_a_body_over_the_size_limit_is_a_413_in_the_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000})
    response = api.post(f"{BASE}/journeys/", body, content_type="application/json")
    assert response.status_code == 413
    assert set(response.json()) == SHAPE
    assert response.json()["code"] == "too_large"


def test_a_form_body_over_the_size_limit_is_a_413_in_the_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(f"{BASE}/journeys/", {"name": "x" * 20_000})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_nul_in_a_respondents_text_answer_is_a_form_error(client, survey):
    link = make_link(survey)
    page = client.post(
        f"/r/{link.token}/",
        {"score": "3", "improve": "fine\x00not", "seen": "score,improve", "lang": "en"},
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Null characters are not allowed." in html
    assert 'id="respond-form"' in html  # the form again, with the error
    assert Response.all_objects.count() == 0


def test_a_nul_in_a_saved_partial_answer_is_a_form_error_and_nothing_is_saved(client, survey):
    link = make_link(survey)
    page = client.post(
        f"/r/{link.token}/",
        {"score": "3", "improve": "a\x00", "seen": "score,improve", "action": "save", "lang": "en"},
    )
    assert page.status_code == 400
    assert "Null characters are not allowed." in page.content.decode()
    link.refresh_from_db()
    assert not link.partial_answers


def test_a_nul_in_a_hidden_field_of_a_public_link_is_a_400(client, survey):
    page = client.post(f"/s/{survey.link_slug}/", {"score": "9", "hidden_order": "A\x001"})
    assert page.status_code == 400
    assert Response.all_objects.count() == 0


@pytest.mark.parametrize("path", ["/s/%00/", "/r/a%00b/", "/s/x/?score=%00"])
def test_a_nul_in_a_respondent_url_is_the_400_page(client, path):
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="fi")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert '<html lang="fi">' in page.content.decode()
