"""A survey's responses list: newest first, every answer in words, hidden fields, channel,
language, touchpoint, comment search, filters, keyset pages and a flat number of queries."""

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from distribution.models import Invitation
from reports import results
from tests.distribution.factories import ContactFactory, SegmentFactory
from tests.reports.results_support import mixed_survey, submit
from tests.surveys.factories import make_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return mixed_survey(org)


def url(survey, query=""):
    return f"/o/{survey.organization.slug}/reports/surveys/{survey.public_id}/responses/{query}"


def cards(html: str) -> list[str]:
    return [
        part.split("</article>")[0]
        for part in html.split('<article class="card response-card"')[1:]
    ]


def test_responses_are_listed_newest_first_with_every_answer_in_words(viewer_client, org, survey):
    earlier = timezone.now() - timedelta(days=2)
    submit(org, survey, {"score": 3, "improve": "Slow checkout"}, submitted_at=earlier)
    submit(
        org,
        survey,
        {
            "score": 10,
            "liked": "Friendly staff",
            "reason": "service",
            "liked_most": ["price", "range"],
            "useful": "yes",
        },
        channel="sms",
        language="sv",
        hidden_fields={"store": "Kamppi", "order": "A-17"},
    )
    page = viewer_client.get(url(survey))
    assert page.status_code == 200
    newest, older = cards(page.content.decode())
    assert "SMS" in newest and "Swedish" in newest and "Store" in newest  # touchpoint name
    assert "10 / 10" in newest
    assert "Service (sv)" in newest and "Price (sv), Range (sv)" in newest
    assert "Yes" in newest and "Friendly staff" in newest
    assert "store" in newest and "Kamppi" in newest and "A-17" in newest
    assert "3 / 10" in older and "Slow checkout" in older and "Web · Finnish" in older


def test_times_are_shown_in_the_organizations_time_zone(viewer_client, org, survey):
    org.time_zone = "America/New_York"
    org.save()
    moment = datetime(2026, 1, 10, 15, 30, tzinfo=ZoneInfo("UTC"))
    submit(org, survey, {"score": 9}, submitted_at=moment)
    html = viewer_client.get(url(survey, "?range=custom&from=2026-01-01&to=2026-01-31")).content
    assert "10.1.2026 10:30" in html.decode()  # 15:30 UTC is 10:30 in New York


def test_comment_search_ignores_case_and_keeps_the_filters(viewer_client, org, survey):
    submit(org, survey, {"score": 2, "improve": "The QUEUE was endless"}, channel="sms")
    submit(org, survey, {"score": 4, "improve": "Prices too high"}, channel="sms")
    submit(org, survey, {"score": 1, "improve": "queue again"}, channel="web")
    html = viewer_client.get(url(survey, "?channel=sms&q=queue")).content.decode()
    found = cards(html)
    assert len(found) == 1 and "The QUEUE was endless" in found[0]
    assert "contain “queue”" in html
    assert '<input type="hidden" name="channel" value="sms">' in html


def test_comment_link_shows_responses_with_that_questions_answer(viewer_client, org, survey):
    submit(org, survey, {"score": 2, "improve": "Faster please"})
    submit(org, survey, {"score": 10, "liked": "All good"})
    submit(org, survey, {"score": 8})
    found = cards(viewer_client.get(url(survey, "?comment=improve")).content.decode())
    assert len(found) == 1 and "Faster please" in found[0]


def test_segment_filter_keeps_responses_of_its_contacts(viewer_client, org, survey):
    vip = ContactFactory(organization=org, attributes={"tier": "vip"})
    segment = SegmentFactory(
        organization=org, rules=[{"field": "attr.tier", "op": "eq", "value": "vip"}]
    )
    link = make_link(survey)
    Invitation.all_objects.create(
        organization=org,
        contact=vip,
        survey=survey,
        personal_link=link,
        channel="email",
        natural_key="test:vip",
        scheduled_for=timezone.now(),
    )
    submit(org, survey, {"score": 9, "liked": "VIP lounge"}, personal_link=link, channel="email")
    submit(org, survey, {"score": 9, "liked": "Anonymous kiosk"})
    found = cards(viewer_client.get(url(survey, f"?segment={segment.public_id}")).content.decode())
    assert len(found) == 1 and "VIP lounge" in found[0]


def next_query(html: str) -> str | None:
    match = re.search(r'href="\?([^"]*)" rel="next"', html)
    return unescape(match.group(1)) if match else None


def test_pages_continue_after_the_last_response_shown(viewer_client, org, survey, monkeypatch):
    monkeypatch.setattr(results, "PAGE_SIZE", 3)
    start = timezone.now() - timedelta(hours=10)
    for number in range(7):
        # 3 and 4 share a moment across the page break: the id breaks the tie, so none is
        # skipped or shown twice.
        minutes = 35 if number in (3, 4) else 10 * number
        when = start + timedelta(minutes=minutes)
        submit(org, survey, {"score": 9, "liked": f"Visit {number}"}, submitted_at=when)
    pages = [viewer_client.get(url(survey)).content.decode()]
    while query := next_query(pages[-1]):
        assert "after=rsp_" in query
        pages.append(viewer_client.get(url(survey, "?" + query)).content.decode())
    seen = [[card.split("Visit ")[1][0] for card in cards(html)] for html in pages]
    assert seen == [["6", "5", "4"], ["3", "2", "1"], ["0"]]
    assert "Newest responses" in pages[-1] and "Newest responses" not in pages[0]


def test_unknown_cursor_starts_from_the_newest(viewer_client, org, survey):
    submit(org, survey, {"score": 9})
    page = viewer_client.get(url(survey, "?after=rsp_unknown"))
    assert page.status_code == 200 and len(cards(page.content.decode())) == 1


def test_too_long_search_is_a_form_error(viewer_client, survey):
    page = viewer_client.get(url(survey, "?q=" + "x" * 201))
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()


def test_outsider_and_other_organizations_survey_get_404(
    outsider_client, viewer_client, other_org, survey
):
    assert outsider_client.get(url(survey)).status_code == 404
    theirs = mixed_survey(other_org, name="Rival visit")
    assert (
        viewer_client.get(f"/o/acme/reports/surveys/{theirs.public_id}/responses/").status_code
        == 404
    )


def test_viewer_cannot_write(viewer_client, survey):
    assert viewer_client.post(url(survey)).status_code == 403


def test_queries_are_the_same_for_one_response_and_thirty(viewer_client, org, survey):
    submit(
        org, survey, {"score": 3, "improve": "Slow", "reason": "price"}, hidden_fields={"a": "1"}
    )
    viewer_client.get(url(survey))
    with CaptureQueriesContext(connection) as one:
        response = viewer_client.get(url(survey))
    assert response.status_code == 200
    for number in range(29):
        submit(
            org,
            survey,
            {"score": number % 11, "liked_most": ["price"], "useful": "no"},
            hidden_fields={"n": str(number)},
        )
    with CaptureQueriesContext(connection) as thirty:
        response = viewer_client.get(url(survey))
    assert response.status_code == 200
    html = response.content.decode()
    assert len(cards(html)) == 30
    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert len(one.captured_queries) <= 10
