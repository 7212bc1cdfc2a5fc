"""Response rules: a low score in scope opens one case for the touchpoint owner and tells them."""

import pytest
from django.utils import timezone

from alerts.enums import CaseStatus, ConditionMetric, NotificationPurpose, Operator, RuleKind
from alerts.models import Alert, Case, Notification, RuleEvaluation
from alerts.services.alerting import response_evaluate
from alerts.services.rules import rule_create
from core.exceptions import ApplicationError
from distribution.models import Contact, Invitation
from tenancy.actors import Actor
from tests.alerts.support import (
    csat_survey,
    low_csat_rule,
    owned_touchpoint,
    submit_csat,
)
from tests.surveys.factories import make_link, make_survey, texts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def touchpoint(scoped, personas):
    return owned_touchpoint(scoped, personas.cx_manager)


@pytest.fixture
def survey(scoped, touchpoint):
    return csat_survey(scoped, touchpoint)


def test_low_csat_opens_case_for_touchpoint_owner_and_emails_them(
    scoped, personas, survey, smtp_outbox, django_capture_on_commit_callbacks
):
    low_csat_rule(scoped)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit_csat(scoped, survey, 1, comment="Rude staff")
    case = Case.objects.get()
    assert case.response == response
    assert case.assignee == personas.cx_manager
    assert case.status == CaseStatus.NEW
    assert case.first_contact_due is not None and case.resolution_due > case.first_contact_due
    message = smtp_outbox.wait_for(1).to(personas.cx_manager.email)[0]
    assert f"{case.number}" in message.subject
    assert case.public_id in message.text


def test_good_score_raises_nothing(scoped, survey, django_capture_on_commit_callbacks):
    low_csat_rule(scoped)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 4)
    assert not Alert.objects.exists()
    assert not Case.objects.exists()


def test_evaluating_a_response_twice_raises_one_alert_and_sends_once(
    scoped, survey, django_capture_on_commit_callbacks
):
    low_csat_rule(scoped)
    with django_capture_on_commit_callbacks(execute=False):
        response = submit_csat(scoped, survey, 2)
    first = response_evaluate(organization=scoped, response_id=response.pk)
    second = response_evaluate(organization=scoped, response_id=response.pk)
    assert len(first) == 1 and second == []
    assert Alert.objects.count() == 1
    assert Case.objects.count() == 1
    assert RuleEvaluation.objects.count() == 1
    assert Notification.objects.filter(purpose=NotificationPurpose.ALERT).count() == 1


def test_two_rules_on_one_response_open_one_case(
    scoped, survey, django_capture_on_commit_callbacks
):
    low_csat_rule(scoped)
    rule_create(
        actor=Actor.system(scoped),
        organization=scoped,
        name="Angry words",
        kind=RuleKind.RESPONSE,
        metric=ConditionMetric.TEXT,
        keywords=["rude"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1, comment="Very RUDE staff")
    assert Alert.objects.count() == 2
    case = Case.objects.get()
    assert any("Angry words" in text for text in case.events.values_list("text", flat=True))


@pytest.mark.parametrize(
    ("metric", "qtype", "value", "fires"),
    [
        ("nps", "nps", 6, True),
        ("nps", "nps", 7, False),
        ("ces", "ces", 3, True),
        ("ces", "ces", 4, False),
        ("smiley", "smiley", 1, True),
        ("smiley", "smiley", 3, False),
    ],
)
def test_default_negative_condition_of_each_metric(
    scoped, touchpoint, metric, qtype, value, fires, django_capture_on_commit_callbacks
):
    scales = {"nps": (0, 10), "ces": (1, 7), "smiley": (1, 4)}
    low, high = scales[qtype]
    survey = make_survey(
        scoped,
        touchpoint=touchpoint,
        questions=[
            {
                "key": "q",
                "type": qtype,
                "texts": texts("Q"),
                "scale_min": low,
                "scale_max": high,
                "required": True,
                "metric": metric,
            }
        ],
    )
    rule_create(
        actor=Actor.system(scoped), organization=scoped, name="Low", kind="response", metric=metric
    )
    from surveys.services.responses import response_submit

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(
            organization=scoped, survey=survey, answers={"q": value}, channel="web", language="fi"
        )
    assert Alert.objects.exists() is fires


def test_open_answer_words_match_inflected_finnish(
    scoped, survey, django_capture_on_commit_callbacks
):
    rule_create(
        actor=Actor.system(scoped),
        organization=scoped,
        name="Huono palvelu",
        kind=RuleKind.RESPONSE,
        metric=ConditionMetric.TEXT,
        keywords=["huono"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 4, comment="Todella huonoa palvelua")
        submit_csat(scoped, survey, 4, comment="Kaikki hyvin")
    alert = Alert.objects.get()
    assert alert.evidence["answers"][0]["words"] == ["huono"]


def test_rule_scoped_to_one_store_by_hidden_field(
    scoped, survey, django_capture_on_commit_callbacks
):
    low_csat_rule(scoped, hidden_fields={"store": "042"})
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1, hidden_fields={"store": "017"})
    assert not Alert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1, hidden_fields={"store": "042"})
    assert Alert.objects.count() == 1


def test_rule_scoped_to_another_touchpoint_ignores_this_one(
    scoped, personas, survey, django_capture_on_commit_callbacks
):
    other = owned_touchpoint(scoped, personas.admin, name="Call centre")
    low_csat_rule(scoped, touchpoint=other)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    assert not Alert.objects.exists()


def test_rule_scoped_to_contact_attribute(scoped, survey, django_capture_on_commit_callbacks):
    low_csat_rule(scoped, contact_attributes={"tier": "gold"})
    for tier in ("silver", "gold"):
        contact = Contact.objects.create(
            organization=scoped, email=f"{tier}@example.com", attributes={"tier": tier}
        )
        link = make_link(survey)
        Invitation.objects.create(
            organization=scoped,
            contact=contact,
            survey=survey,
            personal_link=link,
            channel="email",
            natural_key=f"test:{tier}",
            scheduled_for=timezone.now(),
        )
        with django_capture_on_commit_callbacks(execute=True):
            submit_csat(scoped, survey, 1, personal_link=link)
    case = Case.objects.get()
    assert case.contact.email == "gold@example.com"


def test_case_falls_back_to_the_default_assignee_without_an_owner(
    scoped, personas, survey, touchpoint, django_capture_on_commit_callbacks
):
    from alerts.service_levels import case_settings_update

    touchpoint.owner = None
    touchpoint.save()
    case_settings_update(
        actor=Actor.system(scoped), organization=scoped, default_assignee=personas.admin
    )
    low_csat_rule(scoped)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 2)
    assert Case.objects.get().assignee == personas.admin


def test_another_organizations_rule_never_sees_this_response(
    scoped, other_org, survey, django_capture_on_commit_callbacks
):
    from core.scoping import tenant_scope

    with tenant_scope(other_org):
        low_csat_rule(other_org)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    assert not Alert.all_objects.exists()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"threshold": 9}, "threshold"),
        ({"metric": "text", "keywords": []}, "keywords"),
        ({"name": " "}, "name"),
        ({"slack_webhook_url": "https://10.0.0.5/hook"}, "slack_webhook_url"),
        ({"teams_webhook_url": "https://localhost/hook"}, "teams_webhook_url"),
        ({"operator": "between"}, "operator"),
    ],
)
def test_invalid_rules_are_refused_with_field_errors(scoped, fields, error_field):
    with pytest.raises(ApplicationError) as refused:
        low_csat_rule(scoped, **fields)
    assert error_field in refused.value.extra["fields"]


def test_operator_at_least_for_lower_is_better_effort(
    scoped, touchpoint, django_capture_on_commit_callbacks
):
    survey = make_survey(
        scoped,
        touchpoint=touchpoint,
        questions=[
            {
                "key": "effort",
                "type": "ces_legacy",
                "texts": texts("Effort"),
                "scale_min": 1,
                "scale_max": 5,
                "required": True,
                "metric": "ces_legacy",
            }
        ],
    )
    rule_create(
        actor=Actor.system(scoped),
        organization=scoped,
        name="High effort",
        kind="response",
        metric="ces_legacy",
        operator=Operator.GTE,
        threshold=4,
    )
    from surveys.services.responses import response_submit

    with django_capture_on_commit_callbacks(execute=True):
        for value in (2, 5):
            response_submit(
                organization=scoped,
                survey=survey,
                answers={"effort": value},
                channel="web",
                language="fi",
            )
    assert Alert.objects.count() == 1
