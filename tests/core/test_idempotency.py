from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils.timezone import now

from core.exceptions import ApplicationError
from core.idempotency import KeyReusedError, fingerprint, run_once
from core.models import IdempotencyKey
from tenancy.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def test_work_runs_once_per_key_and_the_answer_is_replayed(org):
    calls = []

    def work():
        calls.append(1)
        return 201, {"id": len(calls)}

    digest = fingerprint(method="POST", path="/x/", body={"a": 1})
    with tenant_scope(org):
        first = run_once(organization=org, key="k", fingerprint=digest, work=work)
        second = run_once(organization=org, key="k", fingerprint=digest, work=work)
    assert first == (201, {"id": 1}, False)
    assert second == (201, {"id": 1}, True)
    assert len(calls) == 1


def test_same_key_with_another_body_is_refused_with_422(org):
    with tenant_scope(org):
        run_once(
            organization=org,
            key="k",
            fingerprint=fingerprint(method="POST", path="/x/", body={"a": 1}),
            work=lambda: (201, {}),
        )
        with pytest.raises(KeyReusedError) as refused:
            run_once(
                organization=org,
                key="k",
                fingerprint=fingerprint(method="POST", path="/x/", body={"a": 2}),
                work=lambda: (201, {}),
            )
    assert refused.value.status_code == 422 and refused.value.code == "idempotency_key_reused"


def test_failed_work_stores_nothing_so_the_key_can_be_retried(org):
    def failing():
        raise ApplicationError("no")

    with tenant_scope(org):
        with pytest.raises(ApplicationError):
            run_once(organization=org, key="k", fingerprint="f", work=failing)
        assert not IdempotencyKey.objects.exists()


def test_fingerprint_ignores_key_order():
    assert fingerprint(method="POST", path="/", body={"a": 1, "b": 2}) == fingerprint(
        method="POST", path="/", body={"b": 2, "a": 1}
    )


# --- every API POST that creates honours the key ---------------------------------------------

API = "/api/v1/orgs/acme/"


@dataclass
class World:
    journey: str
    stage: str
    touchpoint: str
    survey: str
    contact: str
    export: dict


@pytest.fixture
def world(org, write_api) -> World:
    from distribution.models import Contact
    from tests.surveys.factories import make_survey, make_touchpoint

    touchpoint = make_touchpoint(org)
    survey = make_survey(org, touchpoint=touchpoint)
    contact = Contact.all_objects.create(
        organization=org, email="anna@example.fi", email_consent=True, email_consent_at=now()
    )
    return World(
        journey=touchpoint.journey.public_id,
        stage=touchpoint.stage.public_id,
        touchpoint=touchpoint.public_id,
        survey=survey.public_id,
        contact=contact.public_id,
        export=write_api.get(f"{API}surveys/{survey.public_id}/export/").json(),
    )


def _answered(world: World, score: int) -> dict:
    return {
        "survey": world.survey,
        "language": "fi",
        "answers": [{"question": "score", "value": score}],
    }


# (path, body of the first request, the other body sent under the same key, model counted)
CREATES = {
    "journeys": ("journeys/", lambda w, v: {"name": f"Journey {v}"}, "journeys.Journey"),
    "journey copy": (
        "journeys/{journey}/copy/",
        lambda w, v: {"name": f"Copy {v}"},
        "journeys.Journey",
    ),
    "stages": ("stages/", lambda w, v: {"journey": w.journey, "name": f"S{v}"}, "journeys.Stage"),
    "touchpoints": (
        "touchpoints/",
        lambda w, v: {"stage": w.stage, "name": f"T{v}", "channel": "phone"},
        "journeys.Touchpoint",
    ),
    "measurement plans": (
        "measurement-plans/",
        lambda w, v: {
            "touchpoint": w.touchpoint,
            "metric": ("nps", "csat")[v],
            "target_value": "30",
        },
        "journeys.MeasurementPlan",
    ),
    "surveys": ("surveys/", lambda w, v: {"name": f"Survey {v}"}, "surveys.Survey"),
    "survey import": (
        "surveys/import/",
        lambda w, v: {**w.export, "name": f"I{v}"},
        "surveys.Survey",
    ),
    "questions": (
        "surveys/{survey}/questions/",
        lambda w, v: {
            "type": "text",
            "key": f"extra{v}",
            "texts": {"fi": "?", "sv": "?", "en": "?"},
        },
        "surveys.Question",
    ),
    "responses": ("responses/", lambda w, v: _answered(w, 9 + v), "surveys.Response"),
    "responses in bulk": (
        "responses/bulk/",
        lambda w, v: {"responses": [_answered(w, 9 + v)]},
        "surveys.Response",
    ),
    "contacts": ("contacts/", lambda w, v: {"email": f"c{v}@example.fi"}, "distribution.Contact"),
    "segments": (
        "segments/",
        lambda w, v: {"name": f"Seg {v}", "rules": []},
        "distribution.Segment",
    ),
    "email templates": (
        "email-templates/",
        lambda w, v: {
            "survey": w.survey,
            "language": ("fi", "sv")[v],
            "subject": "S",
            "intro": "I",
        },
        "distribution.SurveyEmailTemplate",
    ),
    "invitations": (
        "invitations/",
        lambda w, v: {
            "contact": w.contact,
            "survey": w.survey,
            "channel": "email",
            "event_id": f"e{v}",
        },
        "distribution.Invitation",
    ),
    "campaigns": (
        "campaigns/",
        lambda w, v: {
            "name": f"C{v}",
            "survey": w.survey,
            "channel": "email",
            "contact_ids": [w.contact],
        },
        "distribution.Campaign",
    ),
    "alert rules": (
        "alert-rules/",
        lambda w, v: {"name": f"Rule {v}", "kind": "response", "metric": "csat"},
        "alerts.AlertRule",
    ),
    "cases": ("cases/", lambda w, v: {"title": f"Case {v}", "priority": "high"}, "alerts.Case"),
    "root causes": (
        "root-causes/",
        lambda w, v: {"category": "Staff", "name": f"Cause {v}"},
        "alerts.RootCause",
    ),
    "root cause starter": (
        "root-causes/load-starter/",
        lambda w, v: {"industry": ("retail", "banking")[v]},
        "alerts.RootCause",
    ),
    "improvements": ("improvements/", lambda w, v: {"title": f"Fix {v}"}, "alerts.ImprovementItem"),
}


@pytest.mark.parametrize("endpoint", CREATES)
def test_every_create_endpoint_replays_a_key_and_refuses_it_with_another_body(
    endpoint, write_api, personas, world
):
    path, body, model_name = CREATES[endpoint]
    url = API + path.format(**vars(world))
    model = apps.get_model(model_name)
    headers = {"HTTP_IDEMPOTENCY_KEY": f"key-{endpoint}"}
    first = write_api.post(url, body(world, 0), format="json", **headers)
    assert first.status_code in (200, 201), first.json()
    created = model.all_objects.count()
    again = write_api.post(url, body(world, 0), format="json", **headers)
    assert again.status_code in (first.status_code, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = write_api.post(url, body(world, 1), format="json", **headers)
    assert other.status_code == 422, other.json()
    assert other.json()["code"] == "idempotency_key_reused"
    assert model.all_objects.count() == created
