"""Campaign results: the sent -> delivered -> opened -> answered funnel from invitation statuses,
the response rate, the split by channel, roles and the number of queries."""

import itertools
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from distribution.enums import InvitationStatus as S
from distribution.models import Campaign, Invitation
from reports import results
from tenancy.scoping import tenant_scope
from tests.distribution.factories import ContactFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    survey = make_survey(org, name="After visit")
    return Campaign.all_objects.create(
        organization=org, name="Spring visits", survey=survey, status="sent"
    )


NUMBERS = itertools.count(1)


def invite(campaign, channel: str, status: str, *, sent: bool = True):
    now = timezone.now()
    return Invitation.all_objects.create(
        organization=campaign.organization,
        contact=ContactFactory(organization=campaign.organization),
        survey=campaign.survey,
        campaign=campaign,
        channel=channel,
        status=status,
        natural_key=f"cmp:test:{next(NUMBERS)}",
        scheduled_for=now - timedelta(days=1),
        sent_at=now - timedelta(hours=20) if sent else None,
    )


@pytest.fixture
def invitations(campaign):
    """Email: 10 sent (2 bounced, 1 failed after sending, 2 delivered, 2 opened, 3 answered),
    plus 2 skipped and 1 queued. SMS: 4 sent (1 sent only, 1 delivered, 2 answered)."""
    for status in [S.BOUNCED] * 2 + [S.FAILED, S.DELIVERED, S.DELIVERED] + [S.OPENED] * 2:
        invite(campaign, "email", status)
    for _ in range(3):
        invite(campaign, "email", S.ANSWERED)
    invite(campaign, "email", S.SKIPPED, sent=False)
    invite(campaign, "email", S.SKIPPED, sent=False)
    invite(campaign, "email", S.QUEUED, sent=False)
    for status in (S.SENT, S.DELIVERED, S.ANSWERED, S.ANSWERED):
        invite(campaign, "sms", status)


def url(campaign):
    return f"/o/{campaign.organization.slug}/reports/campaigns/{campaign.public_id}/"


def test_funnel_counts_each_step_from_invitation_statuses(org, campaign, invitations):
    with tenant_scope(org):
        total, per_channel = results.campaign_funnel(organization=org, campaign=campaign)
    email, sms = per_channel
    assert (email.channel, email.sent, email.delivered, email.opened, email.answered) == (
        "email",
        10,
        7,
        5,
        3,
    )
    assert (email.skipped, email.waiting, email.bounced, email.failed) == (2, 1, 2, 1)
    assert (sms.sent, sms.delivered, sms.opened, sms.answered) == (4, 3, 2, 2)
    assert (total.sent, total.delivered, total.opened, total.answered) == (14, 10, 7, 5)
    assert total.response_rate == pytest.approx(100 * 5 / 14)


def test_page_shows_rate_funnel_chart_channels_and_what_steps_mean(
    viewer_client, campaign, invitations
):
    page = viewer_client.get(url(campaign))
    assert page.status_code == 200
    html = page.content.decode()
    assert "35.7 %" in html and "5 answered of 14 sent" in html
    figure = json.loads(
        re.search(
            r'<script id="chart-campaign-funnel-data" type="application/json">(.*?)</script>',
            html,
            re.S,
        ).group(1)
    )
    assert figure["data"][0]["x"] == [14, 10, 7, 5]
    rows = html.split('id="channels-heading"')[1].split("</tbody>")[0]
    assert (
        '<th scope="row">Email</th><td>10</td><td>7</td><td>5</td><td>3</td><td>30.0</td>' in rows
    )
    assert '<th scope="row">SMS</th><td>4</td><td>3</td><td>2</td><td>2</td><td>50.0</td>' in rows
    assert "All channels" in html
    assert "What each step means" in html and "mail scanners follow links" in html


def test_campaign_that_sent_nothing_says_so(viewer_client, campaign):
    html = viewer_client.get(url(campaign)).content.decode()
    assert "Nothing has been sent yet." in html and "No invitations yet." in html
    assert "chart-campaign-funnel" not in html


def test_campaign_page_links_to_its_results(viewer_client, campaign):
    html = viewer_client.get(f"/o/acme/campaigns/{campaign.public_id}/").content.decode()
    assert f'href="{url(campaign)}"' in html


def test_outsider_and_other_organizations_campaign_get_404(
    outsider_client, viewer_client, other_org, campaign
):
    assert outsider_client.get(url(campaign)).status_code == 404
    theirs = Campaign.all_objects.create(
        organization=other_org, name="Rival", survey=make_survey(other_org, name="Rival")
    )
    assert viewer_client.get(f"/o/acme/reports/campaigns/{theirs.public_id}/").status_code == 404


def test_viewer_cannot_write(viewer_client, campaign):
    assert viewer_client.post(url(campaign)).status_code == 403


def test_funnel_is_one_query_whatever_the_number_of_invitations(
    org, campaign, invitations, django_assert_num_queries
):
    with tenant_scope(org), django_assert_num_queries(1):
        results.campaign_funnel(organization=org, campaign=campaign)


def test_page_queries_do_not_grow_with_invitations(
    viewer_client, campaign, invitations, django_assert_max_num_queries
):
    assert viewer_client.get(url(campaign)).status_code == 200
    with django_assert_max_num_queries(7):
        response = viewer_client.get(url(campaign))
    assert response.status_code == 200
