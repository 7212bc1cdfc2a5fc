"""The contact's 360 view and GDPR export: invitations with their delivery history, responses.

Invitations and responses are made through the real services (trigger, claim, record, delivery
report, `response_submit`, the "answered" hook), the way a send and an answer happen in the app.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution import services
from distribution.enums import InvitationStatus
from distribution.models import Invitation
from distribution.services import configuration
from distribution.services import invitations as invitation_services
from surveys.models import Response
from surveys.services.responses import response_submit
from tenancy.scoping import tenant_scope
from tests.distribution.factories import ContactFactory, reachable_contact
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db


def page_of(contact) -> str:
    return f"/o/acme/contacts/{contact.public_id}/"


def invite(org, actor, contact, survey, *, event_id: str = "") -> Invitation:
    with tenant_scope(org):
        return invitation_services.invitation_trigger(
            actor=actor,
            organization=org,
            contact=contact,
            survey=survey,
            channel="email",
            event_id=event_id,
        ).invitation


def send(org, invitation: Invitation, *, status: str = InvitationStatus.SENT, reason: str = ""):
    """What the send task does: claim the row, then record the provider's answer."""
    with tenant_scope(org):
        claimed = invitation_services.invitation_claim(
            organization=org, invitation_id=invitation.pk
        )
        assert claimed is not None
        return invitation_services.invitation_record(
            invitation=claimed,
            status=status,
            reason=reason,
            provider_message_id=f"msg-{invitation.pk}" if status == InvitationStatus.SENT else "",
        )


def answer(org, invitation: Invitation, answers: dict, *, language: str = "fi") -> Response:
    """A respondent submits through the personal link; the invitation becomes answered."""
    with tenant_scope(org):
        response = response_submit(
            organization=org,
            survey=invitation.survey,
            answers=answers,
            channel="email",
            language=language,
            personal_link=invitation.personal_link,
        )
    invitation_services.invitations_mark_answered(organization_id=org.pk, response_id=response.pk)
    return response


def campaign_invitation(org, actor, contact, survey, *, name: str) -> Invitation:
    """A campaign to one contact, run the way its task runs it; its one invitation."""
    with tenant_scope(org):
        campaign = invitation_services.campaign_create(
            actor=actor, organization=org, name=name, survey=survey, contact_ids=[contact.public_id]
        )
        invitation_services.campaign_run(organization=org, campaign_id=campaign.pk)
        return Invitation.objects.get(campaign=campaign)


def answered_invitations(
    org, actor, contact, survey, count: int, *, campaigns: bool = False
) -> list[Invitation]:
    # All are queued before any is sent: the frequency rules count only invitations sent.
    made = [
        campaign_invitation(org, actor, contact, survey, name=f"Wave {n}")
        if campaigns
        else invite(org, actor, contact, survey, event_id=f"visit-{n}")
        for n in range(count)
    ]
    for number, invitation in enumerate(made):
        send(org, invitation)
        answer(org, invitation, {"score": number % 7, "improve": f"Comment {number}"})
    return made


@pytest.fixture
def anna(org):
    return reachable_contact(org, email="anna@example.fi", name="Anna")


@pytest.fixture
def no_frequency_rules(org, cx_actor):
    """Anna may be invited again at once (the rules would skip every invitation after one)."""
    with tenant_scope(org):
        configuration.distribution_settings_update(
            actor=cx_actor, organization=org, survey_throttle_days=0, quarantine_days=0
        )


def test_contact_page_shows_each_invitation_with_its_delivery_status_and_history(
    org, cx_client, cx_actor, anna, nps_survey
):
    delivered = invite(org, cx_actor, anna, nps_survey, event_id="visit-1")
    failed = invite(org, cx_actor, anna, make_survey(org, name="Delivery survey"), event_id="o-7")
    send(org, delivered)
    with tenant_scope(org):
        invitation_services.invitation_delivery_update(
            invitation=delivered, status=InvitationStatus.DELIVERED
        )
    send(org, failed, status=InvitationStatus.FAILED, reason="550 mailbox unavailable")
    # Invited again right after a send: the frequency rules skip these two.
    invite(org, cx_actor, anna, nps_survey, event_id="visit-2")
    campaign = campaign_invitation(org, cx_actor, anna, nps_survey, name="Spring campaign").campaign

    html = cx_client.get(page_of(anna)).content.decode()

    section = html.split('id="invitations-heading"')[1].split("</section>")[0]
    assert "<caption" in section and 'scope="col"' in section and 'class="table-wrap"' in section
    rows = section.split("<tbody>")[1].split("</tr>")[:-1]
    assert len(rows) == 4
    newest, throttled_row, failed_row, delivered_row = rows
    assert "Spring campaign" in newest and f"/o/acme/campaigns/{campaign.public_id}/" in newest
    assert "Skipped: Invited to this survey recently" in newest
    assert "Skipped: Invited to this survey recently" in throttled_row
    assert "Triggered" in throttled_row and "Triggered" in failed_row
    assert "Delivery survey" in failed_row and "Failed: 550 mailbox unavailable" in failed_row
    assert "(550 mailbox unavailable)" in failed_row.split('<ol class="plain">')[1]
    assert "After visit" in delivered_row and "Delivered" in delivered_row
    history = delivered_row.split('<ol class="plain">')[1]
    assert history.index("Queued") < history.index("Sent") < history.index("Delivered")
    sent_cell, answered_cell = delivered_row.split("<td>")[4:6]
    assert "<time datetime=" in sent_cell and "–" in answered_cell


def test_contact_page_shows_each_response_with_its_scores_and_full_comments(
    org, viewer_client, cx_actor, anna
):
    touchpoint = make_touchpoint(org, name="Checkout")
    survey = make_survey(
        org,
        name="After visit",
        touchpoint=touchpoint,
        questions=[
            {"key": "score", "type": "nps", "texts": texts("Recommend"), "metric": "nps"},
            {
                "key": "womi",
                "type": "womi",
                "texts": texts("Recommend us"),
                "texts_secondary": texts("Discourage"),
            },
            {"key": "again", "type": "yes_no", "texts": texts("Again")},
            {
                "key": "topics",
                "type": "multiple_choice",
                "texts": texts("Topics"),
                "choices": [{"value": v, "texts": texts(v.title())} for v in ("price", "staff")],
            },
            {"key": "why", "type": "text", "texts": texts("Why")},
        ],
    )
    comment = "The queue was long.\nBut the staff were kind & quick." + " More." * 200
    invitation = invite(org, cx_actor, anna, survey)
    send(org, invitation)
    answer(
        org,
        invitation,
        {
            "score": 3,
            "womi": {"recommend": 4, "discourage": 8},
            "again": "no",
            "topics": ["staff", "price"],
            "why": comment,
        },
    )

    response = viewer_client.get(page_of(anna))
    assert response.status_code == 200
    section = response.content.decode().split('id="responses-heading"')[1].split("</section>")[0]
    assert "<caption" in section and 'scope="row"' in section and 'class="table-wrap"' in section
    assert "After visit" in section and "Checkout" in section and "Email" in section
    assert "Recommend (fi)</span><br><strong>3 / 10</strong>" in section
    assert "Recommend us (fi)</span><br><strong>recommend 4, discourage 8 (0–10)" in section
    assert "Again (fi)</span><br><strong>No</strong>" in section
    assert "Topics (fi)</span><br><strong>Price (fi), Staff (fi)</strong>" in section
    assert "Why (fi)" in section
    assert "The queue was long.<br>But the staff were kind &amp; quick." in section
    assert section.count(" More.") == 200  # comments are shown in full


def test_contact_without_invitations_or_responses_gets_a_sentence_for_each(org, cx_client):
    contact = ContactFactory(organization=org)
    html = cx_client.get(page_of(contact)).content.decode()
    assert "No invitations have been sent to this contact." in html
    assert "This contact has not answered any survey through an invitation." in html


def test_contact_page_lists_the_newest_hundred_and_says_how_many_there_are(
    org, cx_client, cx_actor, anna, nps_survey
):
    for number in range(101):
        campaign_invitation(org, cx_actor, anna, nps_survey, name=f"Wave {number}")
    html = cx_client.get(page_of(anna)).content.decode()
    section = html.split('id="invitations-heading"')[1].split("</section>")[0]
    assert "Showing the newest 100 of 101 invitations." in section
    assert "The JSON export holds them all." in section
    assert section.count("<tr>") == 101  # the header and 100 invitations
    assert "Wave 100<" in section and "Wave 0<" not in section


def test_contact_page_costs_the_same_queries_for_one_or_ten_invitations_and_responses(
    org, cx_client, cx_actor, anna, nps_survey, no_frequency_rules, django_assert_max_num_queries
):
    answered_invitations(org, cx_actor, anna, nps_survey, 1)
    with CaptureQueriesContext(connection) as one:
        assert cx_client.get(page_of(anna)).status_code == 200
    answered_invitations(org, cx_actor, anna, make_survey(org, name="Second"), 9, campaigns=True)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = cx_client.get(page_of(anna)).content.decode()
    assert html.count("Comment ") == 10
    assert len(one.captured_queries) <= 14


def test_export_holds_invitations_with_their_history_and_responses_with_answers(
    org, scoped, cx_actor, anna, nps_survey
):
    invitation = answered_invitations(org, cx_actor, anna, nps_survey, 1)[0]
    skipped = invite(org, cx_actor, anna, nps_survey, event_id="too-soon")

    data = services.contact_export(actor=cx_actor, organization=scoped, contact=anna)

    json.dumps(data)  # the view writes it as JSON as is
    exported = {row["id"]: row for row in data["invitations"]}
    assert list(exported) == [skipped.public_id, invitation.public_id]  # newest first
    sent = exported[invitation.public_id]
    assert sent["survey"] == {"id": nps_survey.public_id, "name": "After visit"}
    assert sent["campaign"] is None and sent["channel"] == "email"
    assert sent["address"] == "anna@example.fi"
    assert sent["status"] == "answered" and sent["sent_at"] and sent["answered_at"]
    assert [event["status"] for event in sent["events"]] == ["queued", "sent", "answered"]
    assert all(event["at"] for event in sent["events"])
    assert exported[skipped.public_id]["skip_reason"] == "throttled"
    assert exported[skipped.public_id]["sent_at"] is None

    [response] = data["responses"]
    stored = Response.objects.get(personal_link=invitation.personal_link)
    assert response["id"] == stored.public_id
    assert response["survey"] == {"id": nps_survey.public_id, "name": "After visit"}
    assert response["submitted_at"] == stored.submitted_at.isoformat()
    assert (response["channel"], response["language"]) == ("email", "fi")
    assert [(a["key"], a["value"]) for a in response["answers"]] == [
        ("score", 0),
        ("improve", "Comment 0"),
    ]
    assert response["answers"][0]["text"].startswith("Kuinka todennäköisesti")


def test_export_costs_the_same_queries_for_one_or_ten_invitations_and_responses(
    org, scoped, cx_actor, anna, nps_survey, no_frequency_rules
):
    answered_invitations(org, cx_actor, anna, nps_survey, 1)
    with CaptureQueriesContext(connection) as one:
        services.contact_export(actor=cx_actor, organization=scoped, contact=anna)
    answered_invitations(org, cx_actor, anna, make_survey(org, name="Second"), 9, campaigns=True)
    with CaptureQueriesContext(connection) as ten:
        data = services.contact_export(actor=cx_actor, organization=scoped, contact=anna)
    assert len(data["invitations"]) == len(data["responses"]) == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_after_erasure_no_response_leads_back_to_the_person(org, cx_actor, anna, nps_survey):
    invitation = invite(org, cx_actor, anna, nps_survey)
    with tenant_scope(org):
        Invitation.objects.filter(pk=invitation.pk).update(hidden_fields={"customer": "Anna A"})
        invitation.personal_link.hidden_fields = {"customer": "Anna A"}
        invitation.personal_link.save(update_fields=["hidden_fields"])
    send(org, invitation)
    response = answer(org, invitation, {"score": 9, "liked": "Friendly staff"})
    assert response.hidden_fields == {"customer": "Anna A"}

    with tenant_scope(org):
        services.contact_erase(actor=cx_actor, organization=org, contact=anna)
        response.refresh_from_db()
        # The response stays for the metrics, anonymous: nothing points from it to Anna.
        assert not Invitation.objects.filter(personal_link=response.personal_link_id).exists()
        assert not Invitation.objects.filter(contact__isnull=False).exists()
        assert "Anna" not in json.dumps(response.hidden_fields)
        assert [a.value_text for a in response.answers.all() if a.value_text] == ["Friendly staff"]


def test_viewer_sees_the_360_view_but_cannot_export_or_erase(
    org, viewer_client, cx_actor, anna, nps_survey
):
    answered_invitations(org, cx_actor, anna, nps_survey, 1)
    page = viewer_client.get(page_of(anna))
    html = page.content.decode()
    assert page.status_code == 200
    assert "After visit" in html and "Comment 0" in html
    assert "/export/" not in html and "/erase/" not in html
    assert viewer_client.get(page_of(anna) + "export/").status_code == 403
    assert viewer_client.post(page_of(anna) + "erase/").status_code == 403


def test_outsider_gets_404_for_the_contact_page_and_its_export(
    org, outsider_client, cx_actor, anna, nps_survey
):
    answered_invitations(org, cx_actor, anna, nps_survey, 1)
    for url in (page_of(anna), page_of(anna) + "export/", f"/o/rival/contacts/{anna.public_id}/"):
        assert outsider_client.get(url).status_code == 404, url
