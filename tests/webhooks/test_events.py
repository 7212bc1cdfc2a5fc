"""Every event type is emitted by the real action, in its transaction; nothing is written or
read from the database for an organization without endpoints."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Case
from alerts.services.alerting import response_evaluate
from alerts.services.cases import case_add_note
from distribution.enums import InvitationStatus
from distribution.models import Invitation
from distribution.services.contacts import contact_opt_out
from distribution.services.invitations import invitation_delivery_update
from surveys.exceptions import AnswerErrors
from tenancy.scoping import tenant_scope
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat
from tests.distribution.factories import ContactFactory
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import subscribed_types

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org, personas):
    with tenant_scope(org):
        return csat_survey(org, owned_touchpoint(org, personas.cx_manager))


def events(type: str) -> list[WebhookEvent]:
    return list(WebhookEvent.all_objects.filter(type=type).order_by("id"))


def test_a_submitted_response_is_announced_with_its_answers(org, survey, make_endpoint):
    make_endpoint(events=["response.submitted"])
    with tenant_scope(org):
        response = submit_csat(org, survey, 2, comment="Slow", hidden_fields={"store": "12"})

    (event,) = events("response.submitted")
    assert event.payload["id"] == response.public_id
    assert event.payload["survey"] == survey.public_id
    assert event.payload["touchpoint"] == survey.touchpoint.public_id
    assert event.payload["answers"] == {"csat": 2, "comment": "Slow"}
    assert event.payload["hidden_fields"] == {"store": "12"}
    assert WebhookDelivery.all_objects.filter(event=event, status="pending").count() == 1


def test_without_endpoints_a_submit_touches_no_webhook_table(org, survey):
    with tenant_scope(org):
        submit_csat(org, survey, 4)  # reads the survey's questions once per process
        assert subscribed_types(org.pk) == frozenset()  # read once, then cached
        with CaptureQueriesContext(connection) as queries:
            submit_csat(org, survey, 5)
    assert not [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert len(queries.captured_queries) == 1  # the response's one statement
    assert not WebhookEvent.all_objects.exists()


def test_an_endpoint_for_other_events_records_no_response_event(org, survey, make_endpoint):
    make_endpoint(events=["case.created"])
    with tenant_scope(org):
        submit_csat(org, survey, 5)
    assert not WebhookEvent.all_objects.exists()


def test_a_low_score_announces_the_alert_and_its_case(org, survey, make_endpoint):
    make_endpoint(events=["alert.created", "case.created"])
    with tenant_scope(org):
        low_csat_rule(org)
        response = submit_csat(org, survey, 1)
        (alert,) = response_evaluate(organization=org, response_id=response.pk)

    (alert_event,) = events("alert.created")
    assert alert_event.payload["id"] == alert.public_id
    assert alert_event.payload["response"] == response.public_id
    (case_event,) = events("case.created")
    case = Case.all_objects.get(alert=alert)
    assert case_event.payload["id"] == case.public_id
    assert case_event.payload["alert"] == alert.public_id
    assert case_event.payload["status"] == "new"


def test_a_case_change_is_announced(org, survey, make_endpoint, owner_actor):
    make_endpoint(events=["case.updated"])
    with tenant_scope(org):
        low_csat_rule(org)
        response = submit_csat(org, survey, 1)
        response_evaluate(organization=org, response_id=response.pk)
        case = Case.objects.get()
        case_add_note(actor=owner_actor, case=case, text="Called the customer")

    (event,) = events("case.updated")
    assert event.payload["id"] == case.public_id and event.payload["changes"] == ["note"]


def test_an_unsubscribe_is_announced_without_contact_details(org, make_endpoint):
    make_endpoint(events=["contact.unsubscribed"])
    contact = ContactFactory(organization=org, email="anna@example.fi")
    with tenant_scope(org):
        contact_opt_out(
            actor=None, organization=org, contact=contact, channel="email", reason="link"
        )

    (event,) = events("contact.unsubscribed")
    assert event.payload["contact"] == {"id": contact.public_id, "external_id": ""}
    assert event.payload["channel"] == "email" and event.payload["reason"] == "link"
    assert event.contact_details is None  # no endpoint asked for them: not even kept


def test_a_failed_invitation_is_announced(org, survey, make_endpoint):
    make_endpoint(events=["invitation.failed"], include_contact_details=True)
    contact = ContactFactory(organization=org, email="bea@example.fi")
    invitation = Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        channel="email",
        address=contact.email,
        natural_key="test:1",
        status=InvitationStatus.SENT,
        scheduled_for=timezone.now(),
    )
    with tenant_scope(org):
        invitation_delivery_update(
            invitation=invitation, status=InvitationStatus.BOUNCED, reason="mailbox unknown"
        )

    (event,) = events("invitation.failed")
    assert event.payload["id"] == invitation.public_id
    assert event.payload["status"] == "bounced" and event.payload["reason"] == "mailbox unknown"
    assert event.payload["contact"]["id"] == contact.public_id
    assert event.contact_details == {"email": "bea@example.fi", "phone": ""}


def test_a_refused_change_announces_nothing(org, survey, make_endpoint):
    make_endpoint(events=["response.submitted"])
    with tenant_scope(org), pytest.raises(AnswerErrors):
        submit_csat(org, survey, 9)  # out of the CSAT scale
    assert not WebhookEvent.all_objects.exists()


def test_a_submit_delivers_to_the_receiver_after_commit(
    org, survey, make_endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    make_endpoint(events=["response.submitted"])
    with tenant_scope(org), django_capture_on_commit_callbacks(execute=True):
        response = submit_csat(org, survey, 4)

    (received,) = receiver.received
    assert response.public_id.encode() in received.body
    assert WebhookDelivery.all_objects.get().status == "succeeded"
