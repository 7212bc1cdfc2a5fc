"""SMS invitations through the real twilio SDK against a local fake Twilio, and inbound replies
signed with the SDK's own validator."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from twilio.request_validator import RequestValidator

from distribution.enums import InvitationStatus
from distribution.models import Contact, DistributionSettings, Invitation, InvitationEvent
from surveys.models import Answer, Response
from tests.distribution.factories import reachable_contact
from tests.plugins.fake_twilio import AUTH_TOKEN

URL = "/api/v1/orgs/acme/invitations/"
INBOUND = "/hooks/twilio/sms/"
STATUS = "/hooks/twilio/status/"
PHONE = "+358401234567"
ACME_NUMBER = "+358451230001"
RIVAL_NUMBER = "+358451230002"


def signed_post(client, path: str, params: dict, *, query: str = "", token: str = AUTH_TOKEN):
    url = settings.PUBLIC_BASE_URL + path + query
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(
        path + query,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


@pytest.fixture
def sent_sms(org, write_api, nps_survey, sending, django_capture_on_commit_callbacks):
    """An SMS invitation already sent to a contact who consented to SMS."""
    DistributionSettings.all_objects.create(organization=org, sms_sender=ACME_NUMBER)
    contact = reachable_contact(org, phone=PHONE, preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            URL,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    return Invitation.all_objects.get(public_id=response.json()["id"])


class Replies:
    def __init__(self, client):
        self.client = client
        self.count = 0

    def send(
        self, body: str, *, sid: str | None = None, phone: str = PHONE, to: str = ACME_NUMBER
    ) -> str:
        self.count += 1
        params = {"MessageSid": sid or f"SMin{self.count}", "From": phone, "To": to, "Body": body}
        response = signed_post(self.client, INBOUND, params)
        assert response.status_code == 200
        text = response.content.decode()
        if "<Message>" not in text:
            return ""
        return text.split("<Message>")[1].split("</Message>")[0]


@pytest.fixture
def replies(client):
    return Replies(client)


def test_an_sms_invitation_goes_out_through_twilio_with_a_short_link_in_one_segment(
    sent_sms, sending, org
):
    message = sending["twilio"].messages[0]
    token = sent_sms.personal_link.token
    assert message["To"] == PHONE
    assert message["From"] == ACME_NUMBER
    assert f"https://cx.example.com/r/{token}/" in message["Body"]
    assert len(message["Body"]) <= 160
    assert message["StatusCallback"].endswith(f"/hooks/twilio/status/?ivt={sent_sms.public_id}")
    sent_sms.refresh_from_db()
    assert sent_sms.status == InvitationStatus.SENT
    assert sent_sms.provider_message_id == message["sid"]
    assert sent_sms.sender == ACME_NUMBER


def test_status_callbacks_update_delivery_and_forged_ones_are_refused(sent_sms, client):
    query = f"?ivt={sent_sms.public_id}"
    params = {"MessageSid": sent_sms.provider_message_id, "MessageStatus": "delivered"}
    forged = signed_post(client, STATUS, params, query=query, token="not-the-token")
    assert forged.status_code == 403
    assert client.post(STATUS + query, params).status_code == 403
    assert signed_post(client, STATUS, params, query=query).status_code == 204
    assert signed_post(client, STATUS, params, query=query).status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == InvitationStatus.DELIVERED
    history = InvitationEvent.all_objects.filter(invitation=sent_sms)
    assert list(history.values_list("status", flat=True)) == ["queued", "sent", "delivered"]


def test_a_transient_twilio_error_leaves_the_invitation_queued_for_the_sweep_to_send_once(
    org, write_api, nps_survey, sending, django_capture_on_commit_callbacks
):
    """Tasks run eagerly here, so Celery's retry cannot be sent; the sweep picks the invitation up
    once it is overdue (the retry through a real worker is in test_sending_worker.py)."""
    from datetime import timedelta

    from django.utils import timezone

    from distribution.tasks import sweep_invitations

    contact = reachable_contact(org, phone=PHONE)
    sending["twilio"].fail_next(503)
    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            URL,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    assert invitation.status == InvitationStatus.QUEUED
    assert "503" in invitation.failure_reason
    assert sending["twilio"].messages == []
    assert invitation.scheduled_for > timezone.now() + timedelta(seconds=20)  # the retry's time
    assert sweep_invitations.apply().get()["invitations"] == 0  # not before the retry is due
    Invitation.all_objects.filter(pk=invitation.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=5)
    )
    assert sweep_invitations.apply().get()["invitations"] == 1
    assert sweep_invitations.apply().get()["invitations"] == 0
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    assert invitation.attempts == 2
    assert len(sending["twilio"].messages) == 1


def test_a_permanent_twilio_error_is_recorded_as_failed(
    org, write_api, nps_survey, sending, django_capture_on_commit_callbacks
):
    contact = reachable_contact(org, phone=PHONE)
    sending["twilio"].fail_next(400)
    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            URL,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    assert invitation.status == InvitationStatus.FAILED
    assert "21211" in invitation.failure_reason
    assert sending["twilio"].messages == []


def test_unsigned_or_forged_inbound_sms_is_refused(sent_sms, client):
    params = {"MessageSid": "SMx", "From": PHONE, "To": ACME_NUMBER, "Body": "STOP"}
    assert client.post(INBOUND, params).status_code == 403
    assert signed_post(client, INBOUND, params, token="forged").status_code == 403
    assert signed_post(client, INBOUND, {**params, "Body": "x"}, query="?a=1").status_code == 200
    assert Contact.all_objects.get(phone=PHONE).sms_opted_out_at is None


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop.",
        "LOPETA",
        "lopeta!",
        "Sluta",
        "SLUTA tack",
        "unsubscribe please",
        " Stop ",
    ],
)
def test_stop_words_in_any_language_opt_out_at_once_and_are_confirmed_once(sent_sms, replies, body):
    first = replies.send(body)
    assert first
    contact = Contact.all_objects.get(phone=PHONE)
    assert contact.sms_opted_out_at is not None
    assert replies.send(body) == ""


def test_start_opts_back_in(sent_sms, replies):
    replies.send("STOP")
    assert "STOP" in replies.send("START")
    assert Contact.all_objects.get(phone=PHONE).sms_opted_out_at is None


def test_a_reply_with_a_number_answers_asks_why_and_records_the_comment(
    sent_sms, replies, nps_survey
):
    follow_up = replies.send("3")
    assert follow_up == "Improve (en)"
    assert not Response.all_objects.exists()
    assert replies.send("Delivery was slow") == "Thank you for your answer!"
    response = Response.all_objects.get()
    answers = {
        a.question.key: a
        for a in Answer.all_objects.filter(response=response).select_related("question")
    }
    assert response.channel == "sms"
    assert answers["score"].value_int == 3
    assert answers["improve"].value_text == "Delivery was slow"
    sent_sms.refresh_from_db()
    assert sent_sms.status == InvitationStatus.ANSWERED
    assert replies.send("anything else") == ""


def test_a_reply_not_understood_gets_one_helpful_message_not_a_loop(sent_sms, replies):
    assert "0-10" in replies.send("hello?")
    assert replies.send("what") == ""
    assert replies.send("42") == ""
    assert replies.send("9") == "Liked (en)"


def test_the_same_message_sid_is_acted_on_once(sent_sms, replies):
    first = replies.send("3", sid="SMsame")
    again = replies.send("3", sid="SMsame")
    assert first == again == "Improve (en)"
    sent_sms.refresh_from_db()
    assert sent_sms.sms_state == "awaiting_comment"
    assert not Response.all_objects.exists()


def test_a_passive_score_without_a_follow_up_question_is_recorded_and_thanked(sent_sms, replies):
    assert replies.send("7") == "Thank you for your answer!"
    assert Answer.all_objects.get(response=Response.all_objects.get()).value_int == 7


def test_nothing_is_sent_by_sms_to_a_contact_without_sms_consent(
    org, write_api, nps_survey, sending, django_capture_on_commit_callbacks
):
    contact = reachable_contact(org, email="only@example.fi")
    Contact.all_objects.filter(pk=contact.pk).update(phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            URL,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    assert response.json()["skip_reason"] == "no_consent"
    assert sending["twilio"].messages == []


def _invite_by_sms(organization, survey, capture) -> Invitation:
    """An SMS invitation of `organization` to PHONE, sent through the real task and fake Twilio."""
    from core.scoping import tenant_scope
    from distribution.services.invitations import invitation_trigger

    contact = reachable_contact(organization, phone=PHONE, preferred_language="en")
    with capture(execute=True), tenant_scope(organization):
        invitation = invitation_trigger(
            actor=None, organization=organization, contact=contact, survey=survey, channel="sms"
        ).invitation
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    return invitation


@pytest.fixture
def rival_sms(other_org, sending, django_capture_on_commit_callbacks):
    """The other organization, with a number of its own, texted the same person afterwards."""
    from tests.surveys.factories import make_survey

    DistributionSettings.all_objects.create(organization=other_org, sms_sender=RIVAL_NUMBER)
    survey = make_survey(other_org, name="Rival survey")
    return _invite_by_sms(other_org, survey, django_capture_on_commit_callbacks)


def test_a_reply_answers_the_invitation_of_the_number_it_was_sent_to(
    sent_sms, rival_sms, replies, org, other_org
):
    """The rival texted the same person later; the reply to acme's number is acme's answer."""
    assert replies.send("9", to=ACME_NUMBER) == "Liked (en)"
    assert replies.send("Quick service", to=ACME_NUMBER) == "Thank you for your answer!"
    response = Response.all_objects.get()
    assert response.organization == org
    rival_sms.refresh_from_db()
    assert rival_sms.sms_state == "" and rival_sms.status == InvitationStatus.SENT
    assert replies.send("2", to="+358451239999") == ""  # nobody sent from that number
    assert Response.all_objects.count() == 1


def test_stop_to_one_organization_number_leaves_the_other_organization_alone(
    sent_sms, rival_sms, replies, org, other_org
):
    assert replies.send("STOP", to=RIVAL_NUMBER)
    assert Contact.all_objects.get(organization=other_org).sms_opted_out_at is not None
    assert Contact.all_objects.get(organization=org).sms_opted_out_at is None


def test_stop_to_a_shared_sender_opts_out_of_every_organization_that_used_it(
    org, other_org, nps_survey, sending, settings, replies, django_capture_on_commit_callbacks
):
    """Without numbers of their own both organizations send from the installation's number;
    the person cannot tell them apart and Twilio blocks that number for them after STOP."""
    from tests.surveys.factories import make_survey

    settings.TWILIO_DEFAULT_SENDER = "+358451230000"
    _invite_by_sms(org, nps_survey, django_capture_on_commit_callbacks)
    rival_survey = make_survey(other_org, name="Rival survey")
    _invite_by_sms(other_org, rival_survey, django_capture_on_commit_callbacks)
    assert replies.send("Lopeta", to="+358451230000")
    opted_out = Contact.all_objects.filter(phone=PHONE, sms_opted_out_at__isnull=False)
    assert {contact.organization_id for contact in opted_out} == {org.pk, other_org.pk}


def test_a_score_whose_comment_never_comes_is_recorded_after_the_wait(
    sent_sms, replies, settings, org
):
    from datetime import timedelta

    from django.utils import timezone

    from distribution.tasks import sweep_invitations

    assert replies.send("4") == "Improve (en)"
    sweep_invitations.apply()
    assert not Response.all_objects.exists()  # still within the wait

    sent_sms.refresh_from_db()
    answered_at = sent_sms.sms_state_at
    Invitation.all_objects.filter(pk=sent_sms.pk).update(
        sms_state_at=timezone.now() - timedelta(hours=settings.SMS_COMMENT_WAIT_HOURS, minutes=1)
    )
    assert sweep_invitations.apply().get()["sms_completed"] == 1
    assert sweep_invitations.apply().get()["sms_completed"] == 0
    response = Response.all_objects.get()
    assert Answer.all_objects.get(response=response).value_int == 4
    assert response.submitted_at < answered_at  # counted when the score came, not now
    sent_sms.refresh_from_db()
    assert sent_sms.status == InvitationStatus.ANSWERED
    assert replies.send("It was late") == ""  # the conversation is over


def _save_on_the_web_with_the_score_blank(client, invitation) -> None:
    """The respondent presses "save" on the survey page (opened before the SMS score came)."""
    page = client.post(
        f"/r/{invitation.personal_link.token}/",
        {"score": "", "improve": "", "seen": "score", "action": "save"},
    )
    assert page.status_code == 200


def test_a_blank_score_saved_on_the_web_page_keeps_the_sms_score_and_takes_the_comment(
    sent_sms, replies, client
):
    assert replies.send("3") == "Improve (en)"
    _save_on_the_web_with_the_score_blank(client, sent_sms)
    assert replies.send("Delivery was slow") == "Thank you for your answer!"
    response = Response.all_objects.get()
    answers = {
        a.question.key: a
        for a in Answer.all_objects.filter(response=response).select_related("question")
    }
    assert answers["score"].value_int == 3
    assert answers["improve"].value_text == "Delivery was slow"
    sent_sms.refresh_from_db()
    assert sent_sms.status == InvitationStatus.ANSWERED and sent_sms.sms_state == "done"


def test_a_blank_score_saved_on_the_web_page_does_not_lose_the_sms_score_after_the_wait(
    sent_sms, replies, client, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from distribution.tasks import sweep_invitations

    assert replies.send("4") == "Improve (en)"
    _save_on_the_web_with_the_score_blank(client, sent_sms)
    Invitation.all_objects.filter(pk=sent_sms.pk).update(
        sms_state_at=timezone.now() - timedelta(hours=settings.SMS_COMMENT_WAIT_HOURS, minutes=1)
    )
    assert sweep_invitations.apply().get()["sms_completed"] == 1
    assert Answer.all_objects.get(response=Response.all_objects.get()).value_int == 4


def test_an_sms_score_keeps_what_the_web_page_saved_before(sent_sms, replies, client):
    client.post(
        f"/r/{sent_sms.personal_link.token}/",
        {"score": "", "improve": "Half a thought", "seen": "score", "action": "save"},
    )
    assert replies.send("2") == "Improve (en)"
    link = sent_sms.personal_link
    link.refresh_from_db()
    assert link.partial_answers["score"] == "2"
    assert link.partial_answers["improve"] == "Half a thought"


def test_an_over_long_message_sid_delivered_twice_is_acted_on_once(sent_sms, replies):
    sid = "SM" + "f" * 98
    first = replies.send("3", sid=sid)
    again = replies.send("3", sid=sid)
    assert first == again == "Improve (en)"
    assert replies.send("Too slow", sid=sid + "x") == "Thank you for your answer!"
    assert replies.send("Too slow", sid=sid + "x") == "Thank you for your answer!"
    assert Response.all_objects.count() == 1


LINK_ONLY = "Replies to this number are not read. Please answer through the link."


def test_replies_to_the_shared_sender_reach_no_organization_and_the_link_still_works(
    org, other_org, nps_survey, sending, replies, client, django_capture_on_commit_callbacks
):
    """Neither organization has a number of its own: both text the person from the shared one.
    The SMS carry only the link, and a reply is given to neither organization."""
    from distribution.models import InboundSms
    from tests.surveys.factories import make_survey

    shared = settings.TWILIO_DEFAULT_SENDER
    acme = _invite_by_sms(org, nps_survey, django_capture_on_commit_callbacks)
    rival_survey = make_survey(other_org, name="Rival survey")
    rival = _invite_by_sms(other_org, rival_survey, django_capture_on_commit_callbacks)
    messages = sending["twilio"].messages
    assert [message["From"] for message in messages] == [shared, shared]
    assert all("Reply with a number" not in message["Body"] for message in messages)
    assert f"/r/{acme.personal_link.token}/" in messages[0]["Body"]

    assert replies.send("9 Quick service", to=shared) == LINK_ONLY
    assert replies.send("Really quick", to=shared) == ""  # said once, not a conversation
    assert not Response.all_objects.exists()
    assert not InboundSms.all_objects.exists()
    for invitation in (acme, rival):
        invitation.refresh_from_db()
        invitation.personal_link.refresh_from_db()
        assert invitation.sms_state == "" and invitation.status == InvitationStatus.SENT
        assert invitation.personal_link.partial_answers == {}

    page = client.post(
        f"/r/{acme.personal_link.token}/",
        {"score": "9", "liked": "Quick service", "seen": "score,liked"},
    )
    assert page.status_code == 302
    assert Response.all_objects.get().organization == org


def test_a_number_two_organizations_texted_from_is_not_answered_by_sms(
    sent_sms, sending, replies, org, other_org, django_capture_on_commit_callbacks
):
    """Should two organizations ever send from the same number (set before it was refused),
    a reply to it belongs to neither."""
    from tests.surveys.factories import make_survey

    assert "Reply with a number" in sending["twilio"].messages[0]["Body"]  # acme's own number
    DistributionSettings.all_objects.create(organization=other_org, sms_sender=ACME_NUMBER)
    _invite_by_sms(
        other_org, make_survey(other_org, name="Rival"), django_capture_on_commit_callbacks
    )
    assert replies.send("3", to=ACME_NUMBER) == LINK_ONLY
    assert not Response.all_objects.exists()
    sent_sms.refresh_from_db()
    assert sent_sms.sms_state == ""


def test_the_shared_number_or_another_organization_number_cannot_be_an_own_sender(
    org, other_org, cx_actor, fake_twilio
):
    from core.exceptions import ApplicationError
    from core.scoping import tenant_scope
    from distribution.services import configuration

    DistributionSettings.all_objects.create(organization=other_org, sms_sender=RIVAL_NUMBER)
    with tenant_scope(org):
        for taken in (settings.TWILIO_DEFAULT_SENDER, RIVAL_NUMBER):
            with pytest.raises(ApplicationError) as refused:
                configuration.distribution_settings_update(
                    actor=cx_actor, organization=org, sms_sender=taken
                )
            assert refused.value.extra["fields"]["sms_sender"]
        saved = configuration.distribution_settings_update(
            actor=cx_actor, organization=org, sms_sender=ACME_NUMBER
        )
    assert saved.sms_sender == ACME_NUMBER
