"""Triggered invitations through the API, sent by email through a real SMTP server."""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from distribution.enums import InvitationStatus, SkipReason
from distribution.models import Contact, Invitation, InvitationEvent
from distribution.tasks import send_invitation, sweep_invitations
from tests.distribution.factories import reachable_contact
from tests.surveys.factories import make_survey

URL = "/api/v1/orgs/acme/invitations/"


def trigger(api, capture, **body):
    with capture(execute=True):
        return api.post(URL, body, format="json", **body.pop("_headers", {}))


@pytest.fixture
def anna(org):
    return reachable_contact(org, email="anna@example.fi", name="Anna")


def test_triggered_email_arrives_with_one_link_per_score_and_unsubscribe_headers(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    response = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact=anna.public_id,
        survey=nps_survey.public_id,
        channel="email",
        hidden_fields={"store": "Kamppi"},
    )
    assert response.status_code == 201, response.json()
    message = sending["outbox"].wait_for(1)[0]
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    token = invitation.personal_link.token
    assert message.to == ["anna@example.fi"]
    assert "Acme Oy" in message.subject
    for score in range(0, 11):
        assert f"https://cx.example.com/r/{token}/?score={score}" in message.html
        assert f"https://cx.example.com/r/{token}/?score={score}" in message.text
    assert org.brand_color in message.html
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].strip().startswith("<https://cx.example.com/u/")
    assert invitation.status == InvitationStatus.SENT
    assert invitation.personal_link.hidden_fields == {"store": "Kamppi"}
    assert invitation.personal_link.channel == "email"
    assert invitation.personal_link.expires_at > timezone.now() + timedelta(days=29)
    history = list(
        InvitationEvent.all_objects.filter(invitation=invitation).values_list("status", flat=True)
    )
    assert history == ["queued", "sent"]


def test_one_click_unsubscribe_records_the_opt_out(
    client, write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact=anna.public_id,
        survey=nps_survey.public_id,
        channel="email",
    )
    message = sending["outbox"].wait_for(1)[0]
    path = urlparse(message.headers["List-Unsubscribe"].strip().strip("<>")).path
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post"' in page.content
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.email_opted_out_at is not None
    assert client.post(path[:-3] + "xx/").status_code == 404


def test_contact_data_is_upserted_by_email(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    response = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact_data={"email": "ANNA@example.fi", "external_id": "crm-1"},
        survey=nps_survey.public_id,
        channel="email",
    )
    assert response.status_code == 201
    assert Contact.all_objects.filter(organization=org).count() == 1
    anna.refresh_from_db()
    assert anna.external_id == "crm-1"
    new = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact_data={"email": "new@example.fi", "email_consent": True},
        survey=nps_survey.public_id,
        channel="email",
    )
    assert new.status_code == 201
    assert new.json()["skip_reason"] == ""
    assert Contact.all_objects.filter(organization=org).count() == 2
    assert len(sending["outbox"].wait_for(2)) == 2


def test_the_same_idempotency_key_never_makes_two_invitations(
    write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    body = {"contact": anna.public_id, "survey": nps_survey.public_id, "channel": "email"}
    first = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        **body,
        _headers={"HTTP_IDEMPOTENCY_KEY": "k1"},
    )
    again = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        **body,
        _headers={"HTTP_IDEMPOTENCY_KEY": "k1"},
    )
    assert first.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Invitation.all_objects.count() == 1
    assert len(sending["outbox"].settle().wait_for(1)) == 1


def test_the_same_event_id_never_makes_two_invitations(
    write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    body = {
        "contact": anna.public_id,
        "survey": nps_survey.public_id,
        "channel": "email",
        "event_id": "visit-77",
    }
    first = trigger(write_api, django_capture_on_commit_callbacks, **dict(body))
    again = trigger(write_api, django_capture_on_commit_callbacks, **dict(body))
    assert (first.status_code, again.status_code) == (201, 200)
    assert Invitation.all_objects.count() == 1


def test_a_delayed_invitation_waits_and_the_sweep_sends_it_when_due(
    write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    response = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact=anna.public_id,
        survey=nps_survey.public_id,
        channel="email",
        delay="PT2H",
    )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    assert invitation.status == InvitationStatus.QUEUED
    assert invitation.scheduled_for > timezone.now() + timedelta(minutes=119)
    sweep_invitations()
    assert len(sending["outbox"].settle()) == 0
    Invitation.all_objects.filter(pk=invitation.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=5)
    )
    sweep_invitations()
    sending["outbox"].wait_for(1)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_a_task_run_twice_sends_once(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = write_api.post(
            URL,
            {"contact": anna.public_id, "survey": nps_survey.public_id, "channel": "email"},
            format="json",
        )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    kwargs = {"organization_id": org.pk, "invitation_id": invitation.pk}
    assert send_invitation.apply(kwargs=kwargs).get() == "sent"
    assert send_invitation.apply(kwargs=kwargs).get() == "not claimed"
    assert len(sending["outbox"].settle()) == 1


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"email_consent": False, "email_consent_at": None}, SkipReason.NO_CONSENT),
        ({"email_opted_out_at": timezone.now()}, SkipReason.OPTED_OUT),
        ({"email": ""}, SkipReason.NO_ADDRESS),
    ],
)
def test_nothing_is_sent_to_opted_out_unconsented_or_unaddressed_contacts(
    write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks, fields, reason
):
    Contact.all_objects.filter(pk=anna.pk).update(**fields)
    response = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact=anna.public_id,
        survey=nps_survey.public_id,
        channel="email",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "skipped"
    assert response.json()["skip_reason"] == reason
    assert len(sending["outbox"].settle()) == 0


def test_an_opt_out_after_queueing_is_respected_at_send_time(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = write_api.post(
            URL,
            {"contact": anna.public_id, "survey": nps_survey.public_id, "channel": "email"},
            format="json",
        )
    Contact.all_objects.filter(pk=anna.pk).update(email_opted_out_at=timezone.now())
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    send_invitation.apply(kwargs={"organization_id": org.pk, "invitation_id": invitation.pk})
    invitation.refresh_from_db()
    assert (invitation.status, invitation.skip_reason) == ("skipped", "opted_out")
    assert len(sending["outbox"].settle()) == 0


def test_frequency_rules_skip_with_the_reason(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    other = make_survey(org, name="Delivery")
    body = {"contact": anna.public_id, "channel": "email"}
    first = trigger(
        write_api, django_capture_on_commit_callbacks, survey=nps_survey.public_id, **body
    )
    assert first.status_code == 201
    sending["outbox"].wait_for(1)
    same = trigger(
        write_api, django_capture_on_commit_callbacks, survey=nps_survey.public_id, **body
    )
    assert (same.json()["status"], same.json()["skip_reason"]) == ("skipped", "throttled")
    different = trigger(
        write_api, django_capture_on_commit_callbacks, survey=other.public_id, **body
    )
    assert (different.json()["status"], different.json()["skip_reason"]) == (
        "skipped",
        "quarantined",
    )
    # Counted from the last invitation actually sent: 31 days later both pass again.
    Invitation.all_objects.filter(sent_at__isnull=False).update(
        sent_at=timezone.now() - timedelta(days=31)
    )
    later = trigger(write_api, django_capture_on_commit_callbacks, survey=other.public_id, **body)
    assert later.json()["skip_reason"] == ""
    assert len(sending["outbox"].wait_for(2)) == 2


def test_invitation_list_filters_and_keeps_its_query_count(
    write_api,
    org,
    nps_survey,
    sending,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    for number in range(5):
        contact = reachable_contact(org, email=f"p{number}@example.fi")
        trigger(
            write_api,
            django_capture_on_commit_callbacks,
            contact=contact.public_id,
            survey=nps_survey.public_id,
            channel="email",
        )
    with django_assert_max_num_queries(8):
        page = write_api.get(URL, {"status": "sent"})
    assert page.status_code == 200
    assert len(page.json()["results"]) == 5
    assert write_api.get(URL, {"status": "skipped"}).json()["results"] == []
    assert write_api.get(URL, {"status": "nonsense"}).status_code == 400


def test_outsiders_get_404_and_read_keys_cannot_trigger(
    outsider_api, read_api, anna, nps_survey, db
):
    assert outsider_api.get(URL).status_code == 404
    body = {"contact": anna.public_id, "survey": nps_survey.public_id, "channel": "email"}
    assert outsider_api.post(URL, body, format="json").status_code == 404
    assert read_api.post(URL, body, format="json").status_code == 403
    assert read_api.get(URL).status_code == 200


def test_erasing_a_contact_unlinks_their_invitations(
    write_api, org, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    response = trigger(
        write_api,
        django_capture_on_commit_callbacks,
        contact=anna.public_id,
        survey=nps_survey.public_id,
        channel="email",
        hidden_fields={"customer": "Anna A"},
    )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    link = invitation.personal_link
    assert write_api.delete(f"/api/v1/orgs/acme/contacts/{anna.public_id}/").status_code == 204
    invitation.refresh_from_db()
    link.refresh_from_db()
    assert invitation.contact is None
    assert invitation.address == "" and invitation.hidden_fields == {}
    assert invitation.personal_link is None
    assert link.hidden_fields == {}
