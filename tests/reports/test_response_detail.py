"""One response's page: every answer with its question, scores in words, hidden fields, channel,
language, version, touchpoint, the contact behind an invitation, and stored metadata."""

import pytest
from django.utils import timezone

from distribution.models import Campaign, Invitation
from tests.distribution.factories import ContactFactory
from tests.reports.results_support import mixed_survey, submit
from tests.surveys.factories import make_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return mixed_survey(org)


def url(response):
    return f"/o/acme/reports/responses/{response.public_id}/"


def invited_response(org, survey, contact, **answers):
    link = make_link(survey, hidden_fields={"store": "Kamppi"})
    campaign = Campaign.all_objects.create(organization=org, name="Spring visits", survey=survey)
    Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        campaign=campaign,
        personal_link=link,
        channel="email",
        natural_key=f"test:{link.pk}",
        scheduled_for=timezone.now(),
    )
    return submit(
        org,
        survey,
        answers or {"score": 6, "improve": "Queue"},
        personal_link=link,
        channel="email",
    )


def test_every_answer_is_shown_with_its_question_in_words(viewer_client, org, survey):
    response = submit(
        org,
        survey,
        {
            "score": 4,
            "improve": "The queue\nwas long",
            "reason": "price",
            "liked_most": ["service", "range"],
            "useful": "no",
        },
        language="en",
        hidden_fields={"order": "A-17", "store": "Kamppi"},
    )
    page = viewer_client.get(url(response))
    assert page.status_code == 200
    html = page.content.decode()
    answers = html.split('id="answers-heading"')[1].split("</section>")[0]
    assert "<strong>4 / 10</strong>" in answers
    assert "Improve (en)" in answers and "The queue<br>was long" in answers
    assert "Reason (en)" in answers and "Price (en)" in answers
    assert "Service (en), Range (en)" in answers
    assert "Useful (en)" in answers and "<strong>No</strong>" in answers
    assert answers.index("4 / 10") < answers.index("The queue") < answers.index("Price (en)")
    hidden = html.split('id="hidden-heading"')[1].split("</section>")[0]
    assert "order" in hidden and "A-17" in hidden and "Kamppi" in hidden
    assert "<dd>Web</dd>" in html and "English" in html and "Store" in html
    assert "<dt>Version</dt><dd>1</dd>" in html
    assert "<dt>Contact</dt>" not in html  # anonymous: no contact row


def test_invited_response_links_to_the_contact(viewer_client, org, survey):
    contact = ContactFactory(organization=org, name="Maija Meikäläinen")
    response = invited_response(org, survey, contact)
    html = viewer_client.get(url(response)).content.decode()
    assert f'<a href="/o/acme/contacts/{contact.public_id}/">Maija Meikäläinen</a>' in html
    assert "Spring visits" in html
    assert "Kamppi" in html  # the personal link's hidden fields are the response's


def test_erased_contact_is_not_named(viewer_client, org, survey):
    contact = ContactFactory(organization=org, name="Gone Person")
    response = invited_response(org, survey, contact)
    Invitation.all_objects.filter(contact=contact).update(contact=None)
    html = viewer_client.get(url(response)).content.decode()
    assert "Erased" in html and "Gone Person" not in html


def test_metadata_is_shown_when_stored(viewer_client, org, survey):
    org.store_respondent_metadata = True
    org.save()
    response = submit(org, survey, {"score": 9}, ip="192.0.2.7", user_agent="Kiosk/1.0")
    html = viewer_client.get(url(response)).content.decode()
    assert "192.0.2.7" in html and "Kiosk/1.0" in html


def test_metadata_section_is_absent_when_not_stored(viewer_client, org, survey):
    response = submit(org, survey, {"score": 9}, ip="192.0.2.7", user_agent="Kiosk/1.0")
    html = viewer_client.get(url(response)).content.decode()
    assert "Respondent metadata" not in html and "192.0.2.7" not in html


def test_outsider_and_other_organizations_response_get_404(
    outsider_client, viewer_client, org, other_org, survey
):
    response = submit(org, survey, {"score": 9})
    assert outsider_client.get(url(response)).status_code == 404
    theirs = submit(other_org, mixed_survey(other_org, name="Rival"), {"score": 9})
    assert viewer_client.get(url(theirs)).status_code == 404
    assert viewer_client.get("/o/acme/reports/responses/rsp_nothing/").status_code == 404


def test_viewer_cannot_write(viewer_client, org, survey):
    response = submit(org, survey, {"score": 9})
    assert viewer_client.post(url(response)).status_code == 403


def test_page_costs_a_fixed_number_of_queries(
    viewer_client, org, survey, django_assert_max_num_queries
):
    response = invited_response(org, survey, ContactFactory(organization=org))
    viewer_client.get(url(response))
    with django_assert_max_num_queries(9):
        assert viewer_client.get(url(response)).status_code == 200


def test_the_follow_up_case_of_the_response_is_linked(viewer_client, org, survey):
    from alerts.services.cases import case_create
    from core.scoping import tenant_scope
    from tenancy.actors import Actor

    response = submit(org, survey, {"score": 2, "improve": "Rude"})
    html = viewer_client.get(url(response)).content.decode()
    assert "No case was opened for this response." in html
    with tenant_scope(org):
        case = case_create(
            actor=Actor.system(org), organization=org, title="Call back", response=response
        )
    html = viewer_client.get(url(response)).content.decode()
    assert f"/o/acme/cases/{case.public_id}/" in html
