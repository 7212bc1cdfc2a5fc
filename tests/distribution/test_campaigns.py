"""Campaigns: preview of what the rules skip, sending, scheduling, reminders, pages and API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from distribution.enums import CampaignStatus, InvitationStatus
from distribution.models import Campaign, Contact, Invitation
from distribution.tasks import sweep_invitations
from surveys.models import PersonalLink
from tests.distribution.factories import ContactFactory, SegmentFactory, reachable_contact
from tests.surveys.factories import make_survey

API = "/api/v1/orgs/acme/campaigns/"


@pytest.fixture
def audience(org, nps_survey):
    """Seven contacts on a segment: two reachable, one of each skip reason."""
    segment = SegmentFactory(
        organization=org, name="Gold", rules=[{"field": "attr.plan", "op": "eq", "value": "gold"}]
    )
    gold = {"attributes": {"plan": "gold"}}
    people = {
        "ok1": reachable_contact(org, email="ok1@example.fi", **gold),
        "ok2": reachable_contact(org, email="ok2@example.fi", **gold),
        "no_consent": ContactFactory(organization=org, email="nc@example.fi", **gold),
        "opted_out": reachable_contact(
            org, email="out@example.fi", email_opted_out_at=timezone.now(), **gold
        ),
        "no_address": reachable_contact(org, phone="+358401111111", **gold),
        "throttled": reachable_contact(org, email="thr@example.fi", **gold),
        "quarantined": reachable_contact(org, email="qua@example.fi", **gold),
    }
    Contact.all_objects.filter(pk=people["no_address"].pk).update(
        email_consent=True, email_consent_at=timezone.now()
    )
    other = make_survey(org, name="Other")
    for key, survey in (("throttled", nps_survey), ("quarantined", other)):
        Invitation.all_objects.create(
            organization=org,
            contact=people[key],
            survey=survey,
            channel="email",
            natural_key=f"old:{key}",
            scheduled_for=timezone.now() - timedelta(days=3),
            status=InvitationStatus.SENT,
            sent_at=timezone.now() - timedelta(days=3),
        )
    ContactFactory(organization=org, email="silver@example.fi", attributes={"plan": "silver"})
    return segment


def make_campaign(org, survey, segment, **fields) -> Campaign:
    return Campaign.all_objects.create(
        organization=org, name="Spring", survey=survey, segment=segment, **fields
    )


def test_preview_counts_each_rule_in_a_constant_number_of_queries(
    org, nps_survey, audience, scoped, django_assert_max_num_queries
):
    from distribution.services.invitations import campaign_preview

    campaign = make_campaign(org, nps_survey, audience)
    with django_assert_max_num_queries(3):
        counts = campaign_preview(organization=org, campaign=campaign)
    assert counts == {
        "opted_out": 1,
        "no_consent": 1,
        "no_address": 1,
        "undeliverable": 0,
        "throttled": 1,
        "quarantined": 1,
        "send": 2,
        "total": 7,
    }


def test_a_cx_manager_creates_previews_and_sends_a_campaign_from_the_browser(
    cx_client, org, nps_survey, audience, sending, django_capture_on_commit_callbacks
):
    response = cx_client.post(
        "/o/acme/campaigns/new/",
        {
            "name": "Spring",
            "survey": nps_survey.public_id,
            "segment": audience.public_id,
            "channel": "email",
            "reminders": 0,
            "reminder_after_days": 3,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.all_objects.get()
    page = cx_client.get(response["Location"])
    text = page.content.decode()
    assert "2 of 7 contacts will be invited" in text
    with django_capture_on_commit_callbacks(execute=True):
        sent = cx_client.post(f"/o/acme/campaigns/{campaign.public_id}/send/")
    assert sent.status_code == 302
    outbox = sending["outbox"].wait_for(2)
    assert sorted(m.to[0] for m in outbox.settle()) == ["ok1@example.fi", "ok2@example.fi"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    skipped = Invitation.all_objects.filter(campaign=campaign, status="skipped")
    assert sorted(skipped.values_list("skip_reason", flat=True)) == [
        "no_address",
        "no_consent",
        "opted_out",
        "quarantined",
        "throttled",
    ]
    detail = cx_client.get(f"/o/acme/campaigns/{campaign.public_id}/").content.decode()
    assert "Invitations by status" in detail
    # Sending again is refused, and running the campaign again makes no second invitation.
    with django_capture_on_commit_callbacks(execute=True):
        cx_client.post(f"/o/acme/campaigns/{campaign.public_id}/send/")
    assert Invitation.all_objects.filter(campaign=campaign).count() == 7


def test_a_scheduled_campaign_waits_for_its_time(
    write_api, org, nps_survey, audience, sending, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(days=1)
    created = write_api.post(
        API,
        {
            "name": "Tomorrow",
            "survey": nps_survey.public_id,
            "segment": audience.public_id,
            "channel": "email",
            "scheduled_for": later.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    preview = write_api.get(f"{API}{campaign_id}/preview/")
    assert preview.json()["send"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        sent = write_api.post(f"{API}{campaign_id}/send/")
    assert sent.json()["status"] == "scheduled"
    sweep_invitations()
    assert Invitation.all_objects.filter(campaign__public_id=campaign_id).count() == 0
    Campaign.all_objects.filter(public_id=campaign_id).update(
        scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        sweep_invitations()
    assert len(sending["outbox"].wait_for(2)) == 2


def test_reminders_go_to_non_responders_only_and_do_not_count_as_new_contacts(
    org, nps_survey, sending, django_capture_on_commit_callbacks, write_api
):
    people = [reachable_contact(org, email=f"r{n}@example.fi") for n in range(2)]
    created = write_api.post(
        API,
        {
            "name": "With reminder",
            "survey": nps_survey.public_id,
            "contact_ids": [p.public_id for p in people],
            "channel": "email",
            "reminders": 1,
            "reminder_after_days": 2,
        },
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        write_api.post(f"{API}{created.json()['id']}/send/")
    sending["outbox"].wait_for(2)
    invitations = list(Invitation.all_objects.order_by("pk"))
    Invitation.all_objects.update(sent_at=timezone.now() - timedelta(days=3))
    # The link is about to expire: the reminder must not carry a dead link.
    PersonalLink.all_objects.filter(pk=invitations[1].personal_link_id).update(
        expires_at=timezone.now() + timedelta(hours=1)
    )
    from surveys.services.responses import response_submit
    from tenancy.scoping import tenant_scope

    with tenant_scope(org):
        response_submit(
            organization=org,
            survey=nps_survey,
            answers={"score": 9},
            channel="email",
            language="fi",
            personal_link=invitations[0].personal_link,
        )
    sweep_invitations()
    outbox = sending["outbox"].wait_for(3)
    assert outbox[2].to == [invitations[1].address]
    sweep_invitations()
    assert len(sending["outbox"].settle()) == 3
    reminded = Invitation.all_objects.get(pk=invitations[1].pk)
    assert reminded.reminders_sent == 1
    assert reminded.sent_at < timezone.now() - timedelta(days=2)  # reminders keep the first send
    link = PersonalLink.all_objects.get(pk=reminded.personal_link_id)
    assert link.expires_at > timezone.now() + timedelta(days=29)


def test_campaign_pages_answer_404_to_outsiders_and_refuse_viewers(
    outsider_client, viewer_client, org, nps_survey, audience
):
    campaign = make_campaign(org, nps_survey, audience)
    pages = [
        "/o/acme/campaigns/",
        "/o/acme/campaigns/new/",
        f"/o/acme/campaigns/{campaign.public_id}/",
    ]
    for page in pages:
        assert outsider_client.get(page).status_code == 404
    send = f"/o/acme/campaigns/{campaign.public_id}/send/"
    assert outsider_client.post(send).status_code == 404
    assert viewer_client.get(pages[0]).status_code == 200
    assert viewer_client.get(pages[2]).status_code == 200
    assert viewer_client.get(pages[1]).status_code == 403
    assert viewer_client.post(pages[1], {}).status_code == 403
    assert viewer_client.post(send).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_campaign_api_answers_404_to_outsiders_and_403_to_read_keys(
    outsider_api, read_api, org, nps_survey, audience
):
    campaign = make_campaign(org, nps_survey, audience)
    for path in (API, f"{API}{campaign.public_id}/", f"{API}{campaign.public_id}/preview/"):
        assert outsider_api.get(path).status_code == 404
        assert read_api.get(path).status_code == 200
    assert outsider_api.post(f"{API}{campaign.public_id}/send/").status_code == 404
    assert read_api.post(f"{API}{campaign.public_id}/send/").status_code == 403
    assert read_api.post(API, {}, format="json").status_code == 403


def test_campaign_list_page_and_api_keep_their_query_count(
    cx_client, read_api, org, nps_survey, audience, django_assert_max_num_queries
):
    for number in range(5):
        Campaign.all_objects.create(
            organization=org, name=f"C{number}", survey=nps_survey, segment=audience
        )
    with django_assert_max_num_queries(12):
        assert cx_client.get("/o/acme/campaigns/").status_code == 200
    with django_assert_max_num_queries(6):
        page = read_api.get(API)
    assert len(page.json()["results"]) == 5


def test_a_campaign_needs_exactly_one_audience(write_api, nps_survey, audience):
    both = write_api.post(
        API,
        {
            "name": "x",
            "survey": nps_survey.public_id,
            "segment": audience.public_id,
            "contact_ids": ["ct_nope"],
            "channel": "email",
        },
        format="json",
    )
    assert both.status_code == 400
    unknown = write_api.post(
        API,
        {"name": "x", "survey": nps_survey.public_id, "contact_ids": ["ct_nope"], "channel": "sms"},
        format="json",
    )
    assert unknown.status_code == 400
