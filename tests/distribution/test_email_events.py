"""Bounces, complaints and deliveries reported by the email provider through django-anymail's
real tracking webhook (Postmark's payloads), for invitations sent through a real SMTP server."""

import base64
import json

import pytest

from core.scoping import tenant_scope
from distribution.enums import InvitationStatus, SkipReason
from distribution.models import Contact, DistributionSettings, Invitation, InvitationEvent
from distribution.services import contact_update
from tests.distribution.factories import reachable_contact

URL = "/api/v1/orgs/acme/invitations/"
HOOK = "/hooks/email/postmark/tracking/"
SECRET = "postmark:s3cret-webhook"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.EMAIL_WEBHOOK_PROVIDER = "postmark"


def post_event(client, payload: dict, *, secret: str = SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return client.post(
        HOOK,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def invite(api, capture, contact, survey) -> Invitation:
    with capture(execute=True):
        response = api.post(
            URL,
            {"contact": contact.public_id, "survey": survey.public_id, "channel": "email"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    return Invitation.all_objects.get(public_id=response.json()["id"])


@pytest.fixture
def sent_email(org, write_api, nps_survey, sending, django_capture_on_commit_callbacks):
    contact = reachable_contact(org, email="anna@example.fi", name="Anna")
    invitation = invite(write_api, django_capture_on_commit_callbacks, contact, nps_survey)
    assert invitation.status == InvitationStatus.SENT
    sending["outbox"].wait_for(1)
    return invitation


def bounce(invitation, **extra) -> dict:
    return {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 4323372036854775807,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": "anna@example.fi",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "BouncedAt": "2026-11-20T16:33:54.9070259Z",
        "Metadata": {"invitation": invitation.public_id},
        **extra,
    }


def test_a_hard_bounce_marks_the_invitation_and_stops_email_to_the_address(
    client,
    sent_email,
    write_api,
    nps_survey,
    sending,
    django_capture_on_commit_callbacks,
):
    assert post_event(client, bounce(sent_email)).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == InvitationStatus.BOUNCED
    assert "does not exist" in sent_email.failure_reason
    contact = Contact.all_objects.get(pk=sent_email.contact_id)
    assert contact.email_bounced_at is not None
    assert "unknown user" in contact.email_bounce_reason

    DistributionSettings.all_objects.create(
        organization=contact.organization, survey_throttle_days=0, quarantine_days=0
    )
    again = invite(write_api, django_capture_on_commit_callbacks, contact, nps_survey)
    assert again.status == InvitationStatus.SKIPPED
    assert again.skip_reason == SkipReason.UNDELIVERABLE
    assert len(sending["outbox"].settle()) == 1


def test_a_redelivered_webhook_changes_nothing_the_second_time(client, sent_email):
    assert post_event(client, bounce(sent_email)).status_code == 200
    first = Contact.all_objects.get(pk=sent_email.contact_id).email_bounced_at
    assert post_event(client, bounce(sent_email)).status_code == 200
    assert Contact.all_objects.get(pk=sent_email.contact_id).email_bounced_at == first
    history = InvitationEvent.all_objects.filter(invitation=sent_email)
    assert list(history.values_list("status", flat=True)) == ["queued", "sent", "bounced"]


def test_a_spam_complaint_opts_the_contact_out_of_email(client, sent_email):
    complaint = {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": "anna@example.fi",
        "BouncedAt": "2026-11-20T16:33:54Z",
        "Metadata": {"invitation": sent_email.public_id},
    }
    assert post_event(client, complaint).status_code == 200
    contact = Contact.all_objects.get(pk=sent_email.contact_id)
    assert contact.email_opted_out_at is not None
    assert "complained" in contact.email_opt_out_reason
    assert contact.email_bounced_at is None


def test_a_delivery_report_is_matched_by_the_provider_message_id(client, sent_email):
    delivery = {
        "RecordType": "Delivery",
        "MessageID": sent_email.provider_message_id,
        "Recipient": "anna@example.fi",
        "DeliveredAt": "2026-11-20T16:33:54Z",
        "Details": "Test delivery webhook details",
    }
    assert post_event(client, delivery).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == InvitationStatus.DELIVERED


def test_webhooks_without_the_secret_are_refused_and_change_nothing(client, sent_email):
    assert post_event(client, bounce(sent_email), secret="postmark:guess").status_code in (
        400,
        401,
        403,
    )
    unsigned = client.post(HOOK, json.dumps(bounce(sent_email)), content_type="application/json")
    assert unsigned.status_code in (400, 401, 403)
    sent_email.refresh_from_db()
    assert sent_email.status == InvitationStatus.SENT
    assert Contact.all_objects.get(pk=sent_email.contact_id).email_bounced_at is None


def test_an_event_for_an_unknown_message_is_accepted_and_ignored(client, sent_email):
    stray = bounce(sent_email, Metadata={}, MessageID="not-ours")
    assert post_event(client, stray).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == InvitationStatus.SENT


def test_changing_the_email_address_clears_the_bounce(client, sent_email, org, cx_actor):
    post_event(client, bounce(sent_email))
    contact = Contact.all_objects.get(pk=sent_email.contact_id)
    with tenant_scope(org):
        contact_update(
            actor=cx_actor, organization=org, contact=contact, email="anna.new@example.fi"
        )
    contact.refresh_from_db()
    assert contact.email_bounced_at is None
    assert contact.is_reachable_by("email")


def test_the_contact_page_says_the_address_bounced(client, sent_email, cx_client):
    post_event(client, bounce(sent_email))
    contact = Contact.all_objects.get(pk=sent_email.contact_id)
    page = cx_client.get(f"/o/acme/contacts/{contact.public_id}/").content.decode()
    assert "bounced on" in page
    assert "Bounced" in page  # the invitation's status in the contact's history
