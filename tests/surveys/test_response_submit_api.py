"""Submitting responses through the API: lean (a fixed handful of queries), strict about JSON
types, idempotent with 422 for a reused key, and in bulk up to 1,000 per request."""

import pytest

from alerts.models import Case
from core.models import IdempotencyKey
from surveys.models import Answer, Response, Survey
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"
BULK = f"{BASE}/responses/bulk/"
LABELS = {lang: {"min": "low", "max": "high"} for lang in ("fi", "sv", "en")}


@pytest.fixture
def survey(org):
    return make_survey(org, touchpoint=make_touchpoint(org))


def one(survey, score=9, **overrides) -> dict:
    body = {
        "survey": survey.public_id,
        "channel": "kiosk",
        "language": "fi",
        "answers": [{"question": "score", "value": score}, {"question": "liked", "value": "Tea"}],
    }
    body.update(overrides)
    return body


# --- one response ---


def test_a_typical_submit_costs_at_most_six_queries(
    write_api, personas, survey, django_assert_max_num_queries
):
    write_api.post(f"{BASE}/responses/", one(survey), format="json")  # the key's last-used stamp
    # The organization, the key, the survey with its version and touchpoint, and one INSERT
    # (response, answers, the survey's count and the Idempotency-Key row). The version's
    # questions come from the process's cache.
    with django_assert_max_num_queries(6):
        created = write_api.post(
            f"{BASE}/responses/", one(survey), format="json", HTTP_IDEMPOTENCY_KEY="kiosk-4-0001"
        )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["touchpoint"] == survey.touchpoint.public_id and body["version"] == 1
    assert [(a["key"], a["value"]) for a in body["answers"]] == [("score", 9), ("liked", "Tea")]
    stored = Response.all_objects.get(public_id=body["id"])
    assert stored.idempotency_key == "api:kiosk-4-0001"
    assert [a.value_int for a in Answer.all_objects.filter(response=stored)] == [9, None]
    assert Survey.all_objects.get(pk=survey.pk).response_count == 2
    # The 201 body, built without reading the row back, is what reading it gives.
    assert write_api.get(f"{BASE}/responses/{body['id']}/").json() == body


def test_reusing_a_key_with_another_body_is_422_and_saves_nothing(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-77"}
    first = write_api.post(f"{BASE}/responses/", one(survey, 9), format="json", **headers)
    again = write_api.post(f"{BASE}/responses/", one(survey, 9), format="json", **headers)
    other = write_api.post(f"{BASE}/responses/", one(survey, 2), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422, other.json()
    assert other.json()["code"] == "idempotency_key_reused"
    assert Response.all_objects.count() == 1
    assert Answer.all_objects.filter(value_int=2).count() == 0


def test_reusing_a_key_with_an_invalid_body_is_422_too(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-78"}
    write_api.post(f"{BASE}/responses/", one(survey), format="json", **headers)
    refused = write_api.post(f"{BASE}/responses/", one(survey, 11), format="json", **headers)
    assert refused.status_code == 422


def test_a_replay_still_answers_after_the_survey_closed(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-79"}
    first = write_api.post(f"{BASE}/responses/", one(survey), format="json", **headers)
    Survey.all_objects.filter(pk=survey.pk).update(status="closed")
    again = write_api.post(f"{BASE}/responses/", one(survey), format="json", **headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_key_already_used_by_another_endpoint_is_422(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared-1"}
    contact = write_api.post(
        f"{BASE}/contacts/", {"email": "a@example.fi"}, format="json", **headers
    )
    assert contact.status_code == 201
    refused = write_api.post(f"{BASE}/responses/", one(survey), format="json", **headers)
    assert refused.status_code == 422 and not Response.all_objects.exists()


@pytest.mark.parametrize(
    "value", ["9", {"recommend": "9", "discourage": 1}], ids=["scale", "womi part"]
)
def test_a_scale_answered_with_text_is_refused(write_api, personas, org, value):
    question_type = "womi" if isinstance(value, dict) else "nps"
    survey = make_survey(
        org,
        questions=[
            {
                "key": "score",
                "type": question_type,
                "texts": texts("Recommend"),
                "texts_secondary": texts("Discourage") if question_type == "womi" else {},
                "labels": LABELS,
                "required": True,
            }
        ],
    )
    refused = write_api.post(
        f"{BASE}/responses/",
        {
            "survey": survey.public_id,
            "language": "fi",
            "answers": [{"question": "score", "value": value}],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["extra"]["fields"] == {"score": ["Enter a whole number."]}
    assert not Response.all_objects.exists()


def test_yes_no_words_are_still_taken_from_the_api(write_api, personas, org):
    survey = make_survey(
        org, questions=[{"key": "solved", "type": "yes_no", "texts": texts("Solved?")}]
    )
    created = write_api.post(
        f"{BASE}/responses/",
        {
            "survey": survey.public_id,
            "language": "fi",
            "answers": [{"question": "solved", "value": "yes"}],
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["answers"][0]["value"] == 1


# --- many responses ---


def test_bulk_saves_the_valid_items_and_reports_each_one(write_api, personas, survey, other_org):
    foreign = make_survey(other_org)
    items = [
        {**one(survey, 10), "idempotency_key": "pos-1"},
        one(survey, 11),
        {**one(survey, 3), "idempotency_key": "pos-2", "hidden_fields": {"store": "S1"}},
        one(foreign),
        {**one(survey), "survey": "srv_nosuchsurvey"},
        {"survey": survey.public_id, "channel": ["kiosk"]},
        "not an object",
    ]
    report = write_api.post(BULK, {"responses": items}, format="json")
    assert report.status_code == 207, report.json()
    body = report.json()
    assert (body["created"], body["duplicates"], body["invalid"]) == (2, 0, 5)
    results = body["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "created"] + ["invalid"] * 4
    assert results[0]["idempotency_key"] == "pos-1" and results[0]["id"].startswith("rsp_")
    assert results[1]["code"] == "invalid_answers"
    assert results[1]["errors"] == {"score": ["Choose a value from 0 to 10."]}
    # Another organization's survey reads exactly like one that does not exist.
    assert {k: v for k, v in results[3].items() if k != "index"} == {
        k: v for k, v in results[4].items() if k != "index"
    }
    assert results[3]["errors"] == {"survey": ["No such survey."]}
    assert set(results[5]["errors"]) == {"language", "answers", "channel"}
    assert results[6]["code"] == "invalid"
    saved = Response.all_objects.order_by("id")
    assert [r.public_id for r in saved] == [results[0]["id"], results[2]["id"]]
    assert saved[1].hidden_fields == {"store": "S1"} and saved[1].channel == "kiosk"
    assert [a.value_int for a in Answer.all_objects.order_by("id") if a.value_int] == [10, 3]
    assert Survey.all_objects.get(pk=survey.pk).response_count == 2
    assert Survey.all_objects.get(pk=foreign.pk).response_count == 0


def test_bulk_sent_again_reports_duplicates_and_saves_nothing(write_api, personas, survey):
    items = [{**one(survey, 10), "idempotency_key": f"crm-{n}"} for n in range(10)]
    first = write_api.post(BULK, {"responses": items}, format="json").json()
    again = write_api.post(BULK, {"responses": items}, format="json")
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 10)
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first["results"]]
    assert {r["status"] for r in again.json()["results"]} == {"duplicate"}
    assert Response.all_objects.count() == 10 and Answer.all_objects.count() == 20
    assert Survey.all_objects.get(pk=survey.pk).response_count == 10


def test_bulk_item_keys_and_single_submit_keys_are_one_namespace(write_api, personas, survey):
    single = write_api.post(
        f"{BASE}/responses/", one(survey), format="json", HTTP_IDEMPOTENCY_KEY="till-9"
    ).json()
    report = write_api.post(
        BULK, {"responses": [{**one(survey), "idempotency_key": "till-9"}]}, format="json"
    ).json()
    assert report["results"][0] == {
        "index": 0,
        "idempotency_key": "till-9",
        "status": "duplicate",
        "id": single["id"],
    }


def test_one_batch_may_repeat_a_key_and_keeps_the_first(write_api, personas, survey):
    items = [{**one(survey, 9), "idempotency_key": "x"}, {**one(survey, 1), "idempotency_key": "x"}]
    results = write_api.post(BULK, {"responses": items}, format="json").json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert results[1]["id"] == results[0]["id"]
    assert list(Answer.all_objects.exclude(value_int=None).values_list("value_int", flat=True)) == [
        9
    ]


def test_bulk_takes_a_thousand_and_refuses_more(write_api, personas, survey):
    refused = write_api.post(BULK, {"responses": [one(survey)] * 1001}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "too_many_responses"
    assert refused.json()["extra"]["field"] == "responses"
    assert not Response.all_objects.exists()
    taken = write_api.post(BULK, {"responses": [one(survey)] * 1000}, format="json")
    assert taken.status_code == 200 and taken.json()["created"] == 1000
    assert Response.all_objects.count() == 1000
    assert Survey.all_objects.get(pk=survey.pk).response_count == 1000


def test_bulk_costs_the_same_queries_for_ten_or_a_thousand(
    write_api, personas, survey, django_assert_num_queries
):
    write_api.post(BULK, {"responses": [one(survey)]}, format="json")
    # Key, survey with its version, one INSERT of them all, the outbox row of their announcement
    # (and its DELETE after the commit, which a test's transaction never reaches).
    with django_assert_num_queries(5) as ten:
        write_api.post(BULK, {"responses": [one(survey)] * 10}, format="json")
    with django_assert_num_queries(len(ten.captured_queries)):
        write_api.post(BULK, {"responses": [one(survey)] * 1000}, format="json")


def test_bulk_responses_reach_metrics_and_alerts(
    write_api, personas, org, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    touchpoint = owned_touchpoint(org, personas.cx_manager)
    survey = csat_survey(org, touchpoint)
    low_csat_rule(org)
    items = [
        {
            "survey": survey.public_id,
            "language": "fi",
            "answers": [{"question": "csat", "value": v}],
        }
        for v in (5, 1, 4)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        report = write_api.post(BULK, {"responses": items}, format="json").json()
    low = Response.all_objects.get(public_id=report["results"][1]["id"])
    assert Case.all_objects.get().response_id == low.pk  # the rule fired for the low score
    assert not Response.all_objects.filter(processed_at=None).exists()  # rollups saw them all


def test_read_keys_and_outsiders_cannot_bulk_submit(read_api, outsider_api, personas, survey):
    body = {"responses": [one(survey)]}
    assert read_api.post(BULK, body, format="json").status_code == 403
    assert outsider_api.post(BULK, body, format="json").status_code == 404
    assert not Response.all_objects.exists()


def test_a_bulk_request_with_an_idempotency_key_replays_its_report(write_api, personas, survey):
    headers = {"HTTP_IDEMPOTENCY_KEY": "batch-2025-01"}
    body = {"responses": [one(survey)] * 3}
    first = write_api.post(BULK, body, format="json", **headers)
    again = write_api.post(BULK, body, format="json", **headers)
    assert again.json() == first.json() and Response.all_objects.count() == 3
    assert IdempotencyKey.all_objects.filter(key="batch-2025-01").exists()


@pytest.mark.parametrize("moment", ["2026-02-30T10:00:00+02:00", "yesterday"])
def test_an_impossible_submission_time_is_a_field_error(write_api, personas, survey, moment):
    single = write_api.post(f"{BASE}/responses/", one(survey, submitted_at=moment), format="json")
    assert single.status_code == 400
    assert "submitted_at" in single.json()["extra"]["fields"]
    bulk = write_api.post(BULK, {"responses": [one(survey, submitted_at=moment)]}, format="json")
    assert bulk.status_code == 207
    assert "submitted_at" in bulk.json()["results"][0]["errors"]
    assert not Response.all_objects.filter(survey=survey).exists()
