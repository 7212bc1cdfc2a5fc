"""Sending settings and invitation email texts: the services and the pages CX managers use."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import ApplicationError
from core.models import ActivityLog
from distribution.enums import InvitationStatus, SkipReason
from distribution.models import DistributionSettings, Invitation, SurveyEmailTemplate
from distribution.services import configuration, invitations
from surveys.models import PersonalLink
from tests.distribution.factories import reachable_contact
from tests.surveys.factories import make_survey

SETTINGS = "/o/acme/distribution/settings/"
INVITE_API = "/api/v1/orgs/acme/invitations/"
DEFAULTS = {
    "survey_throttle_days": 30,
    "quarantine_days": 30,
    "link_expiry_days": 30,
    "sms_sender": "",
}


def email_page(survey) -> str:
    return f"/o/acme/surveys/{survey.public_id}/invitation-email/"


def sent_before(org, contact, survey, days: int) -> Invitation:
    """An invitation that went out `days` ago (what the frequency rules count)."""
    when = timezone.now() - timedelta(days=days)
    return Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        channel="email",
        natural_key=f"old:{contact.pk}:{survey.pk}:{days}",
        scheduled_for=when,
        status=InvitationStatus.SENT,
        sent_at=when,
    )


def queue(org, actor, contact, survey) -> Invitation:
    return invitations.invitation_trigger(
        actor=actor, organization=org, contact=contact, survey=survey, channel="email"
    ).invitation


def email_texts(**by_language) -> dict[str, str]:
    """The email page's form data: every language blank unless given as fi=(subject, intro)."""
    data = {}
    for language in ("fi", "sv", "en"):
        subject, intro = by_language.get(language, ("", ""))
        data[f"subject_{language}"] = subject
        data[f"intro_{language}"] = intro
    return data


# --- sending settings: services ----------------------------------------------------------------


def test_an_organization_that_changed_nothing_gets_the_documented_defaults(org, scoped):
    current = configuration.distribution_settings_get(organization=org)
    assert {name: getattr(current, name) for name in DEFAULTS} == DEFAULTS
    assert not DistributionSettings.all_objects.exists()


def test_a_shorter_throttle_and_quarantine_let_recently_invited_contacts_be_invited_again(
    org, scoped, cx_actor, nps_survey
):
    other = make_survey(org, name="Other")
    same_survey = reachable_contact(org, email="same@example.fi")
    any_survey = reachable_contact(org, email="any@example.fi")
    sent_before(org, same_survey, nps_survey, days=10)
    sent_before(org, any_survey, other, days=10)
    assert queue(org, cx_actor, same_survey, nps_survey).skip_reason == SkipReason.THROTTLED
    assert queue(org, cx_actor, any_survey, nps_survey).skip_reason == SkipReason.QUARANTINED

    configuration.distribution_settings_update(
        actor=cx_actor, organization=org, survey_throttle_days=7, quarantine_days=7
    )

    for contact in (same_survey, any_survey):
        invitation = queue(org, cx_actor, contact, nps_survey)
        assert (invitation.status, invitation.skip_reason) == (InvitationStatus.QUEUED, "")


def test_a_longer_quarantine_skips_a_contact_the_default_would_invite(
    org, scoped, cx_actor, nps_survey
):
    from distribution.models import Campaign
    from distribution.services.invitations import campaign_preview

    other = make_survey(org, name="Other")
    contact = reachable_contact(org, email="old@example.fi")
    sent_before(org, contact, other, days=40)
    campaign = Campaign.all_objects.create(
        organization=org, name="Spring", survey=nps_survey, contact_ids=[contact.public_id]
    )
    assert campaign_preview(organization=org, campaign=campaign)["send"] == 1

    configuration.distribution_settings_update(actor=cx_actor, organization=org, quarantine_days=60)

    assert campaign_preview(organization=org, campaign=campaign)["quarantined"] == 1
    assert queue(org, cx_actor, contact, nps_survey).skip_reason == SkipReason.QUARANTINED


def test_throttle_zero_turns_the_rule_off(org, scoped, cx_actor, nps_survey):
    contact = reachable_contact(org, email="again@example.fi")
    sent_before(org, contact, nps_survey, days=1)
    configuration.distribution_settings_update(
        actor=cx_actor, organization=org, survey_throttle_days=0, quarantine_days=0
    )
    assert queue(org, cx_actor, contact, nps_survey).skip_reason == ""


def test_a_new_invitations_link_expires_after_the_configured_days(
    org, scoped, cx_actor, nps_survey
):
    configuration.distribution_settings_update(actor=cx_actor, organization=org, link_expiry_days=3)
    invitation = queue(org, cx_actor, reachable_contact(org, email="a@example.fi"), nps_survey)
    link = invitation.personal_link
    assert link.expires_at == invitation.scheduled_for + timedelta(days=3)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("+358 40 123 4567", "+358401234567"),
        ("00358401234567", "+358401234567"),
        ("AcmeOy", "AcmeOy"),
        ("Shop24", "Shop24"),
        ("  ", ""),
    ],
)
def test_an_sms_sender_is_a_number_in_e164_or_a_short_name(org, scoped, cx_actor, typed, stored):
    saved = configuration.distribution_settings_update(
        actor=cx_actor, organization=org, sms_sender=typed
    )
    assert saved.sms_sender == stored


def test_invalid_settings_are_refused_with_every_field_named_and_nothing_saved(
    org, scoped, cx_actor
):
    with pytest.raises(ApplicationError) as refused:
        configuration.distribution_settings_update(
            actor=cx_actor,
            organization=org,
            survey_throttle_days=-1,
            quarantine_days=366,
            link_expiry_days=0,
            sms_sender="Acme Shop Oy",  # a space, and longer than 11
        )
    assert refused.value.code == "invalid_settings"
    assert set(refused.value.extra["fields"]) == {
        "survey_throttle_days",
        "quarantine_days",
        "link_expiry_days",
        "sms_sender",
    }
    assert not DistributionSettings.all_objects.exists()


@pytest.mark.parametrize("sender", ["0401234567", "12345", "ABCDEFGHIJKL", "Åbo", "+35840"])
def test_a_sender_that_is_neither_an_international_number_nor_a_short_name_is_refused(
    org, scoped, cx_actor, sender
):
    with pytest.raises(ApplicationError) as refused:
        configuration.distribution_settings_update(
            actor=cx_actor, organization=org, sms_sender=sender
        )
    assert refused.value.extra["field"] == "sms_sender"


def test_a_change_is_audited_with_the_changed_fields_and_a_repeat_records_nothing(
    org, scoped, cx_actor
):
    for _ in range(2):
        configuration.distribution_settings_update(
            actor=cx_actor, organization=org, quarantine_days=14, link_expiry_days=30
        )
    entries = ActivityLog.all_objects.filter(
        organization=org, action="distribution.settings.updated"
    )
    assert [entry.data for entry in entries] == [{"fields": ["quarantine_days"]}]


# --- email texts: services ---------------------------------------------------------------------


def test_the_email_texts_of_a_survey_show_each_language_with_its_default(
    org, scoped, cx_actor, nps_survey, django_assert_num_queries
):
    configuration.survey_email_template_save(
        actor=cx_actor,
        organization=org,
        survey=nps_survey,
        language="sv",
        subject="Hej!",
        intro="",
    )
    with django_assert_num_queries(1):
        texts = configuration.survey_email_texts(organization=org, survey=nps_survey)
    assert [t.language for t in texts] == ["fi", "sv", "en"]
    assert [t.subject for t in texts] == ["", "Hej!", ""]
    assert texts[0].default_subject == "Kerro mielipiteesi: Acme Oy"
    assert texts[2].default_intro.startswith("Thank you")


def test_blank_subject_and_introduction_go_back_to_the_defaults_and_are_audited(
    org, scoped, cx_actor, nps_survey
):
    save = configuration.survey_email_template_save
    saved = save(
        actor=cx_actor,
        organization=org,
        survey=nps_survey,
        language="fi",
        subject="Moi\r\n  Acme",
        intro=" Hei!\r\nKiitos. ",
    )
    assert (saved.subject, saved.intro) == ("Moi Acme", "Hei!\nKiitos.")
    save(actor=cx_actor, organization=org, survey=nps_survey, language="fi", subject="", intro="")
    assert not SurveyEmailTemplate.all_objects.exists()
    entries = ActivityLog.all_objects.filter(organization=org, object_id=nps_survey.public_id)
    assert [(e.action, e.data["language"]) for e in entries.order_by("id")] == [
        ("distribution.email_template.saved", "fi"),
        ("distribution.email_template.deleted", "fi"),
    ]


@pytest.mark.parametrize(
    "subject, intro, field",
    [
        ("", "Only an introduction", "subject"),
        ("x" * 201, "", "subject"),
        ("S", "x" * 2001, "intro"),
    ],
)
def test_email_texts_out_of_bounds_are_refused_naming_the_field(
    org, scoped, cx_actor, nps_survey, subject, intro, field
):
    with pytest.raises(ApplicationError) as refused:
        configuration.survey_email_template_save(
            actor=cx_actor,
            organization=org,
            survey=nps_survey,
            language="en",
            subject=subject,
            intro=intro,
        )
    assert refused.value.extra["field"] == field


# --- sending settings: page --------------------------------------------------------------------


def test_a_cx_manager_changes_the_settings_in_the_browser(org, cx_client):
    page = cx_client.get(SETTINGS).content.decode()
    assert 'name="quarantine_days"' in page and "0 turns the rule off" in page
    response = cx_client.post(
        SETTINGS,
        {
            "survey_throttle_days": "14",
            "quarantine_days": "7",
            "link_expiry_days": "10",
            "sms_sender": "+358 40 999 8888",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Sending settings saved." in response.content.decode()
    saved = DistributionSettings.all_objects.get(organization=org)
    assert (saved.survey_throttle_days, saved.quarantine_days, saved.link_expiry_days) == (
        14,
        7,
        10,
    )
    assert saved.sms_sender == "+358409998888"
    entry = ActivityLog.all_objects.get(action="distribution.settings.updated")
    assert entry.data["fields"] == [
        "link_expiry_days",
        "quarantine_days",
        "sms_sender",
        "survey_throttle_days",
    ]


def test_bad_settings_show_errors_on_their_fields(org, cx_client):
    response = cx_client.post(
        SETTINGS,
        {
            "survey_throttle_days": "400",
            "quarantine_days": "7",
            "link_expiry_days": "0",
            "sms_sender": "Acme Oy",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_survey_throttle_days_error"' in html
    assert 'id="id_link_expiry_days_error"' in html
    assert "1–11" in html  # the sender's rule, on the sender field
    assert 'value="Acme Oy"' in html
    assert not DistributionSettings.all_objects.exists()


def test_the_sms_sender_set_in_the_browser_is_who_the_sms_comes_from(
    org, cx_client, write_api, nps_survey, sending, django_capture_on_commit_callbacks
):
    cx_client.post(
        SETTINGS,
        {
            "survey_throttle_days": "30",
            "quarantine_days": "30",
            "link_expiry_days": "30",
            "sms_sender": "AcmeShop",
        },
    )
    contact = reachable_contact(org, phone="+358401234567", preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            INVITE_API,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert sending["twilio"].messages[0]["From"] == "AcmeShop"


def test_a_viewer_reads_the_settings_but_cannot_change_them(org, viewer_client):
    DistributionSettings.all_objects.create(organization=org, quarantine_days=21)
    page = viewer_client.get(SETTINGS)
    html = page.content.decode()
    assert page.status_code == 200
    assert "21" in html and "0 turns the rule off" in html
    assert '<form method="post" novalidate>' not in html
    response = viewer_client.post(
        SETTINGS,
        {
            "survey_throttle_days": "1",
            "quarantine_days": "1",
            "link_expiry_days": "1",
            "sms_sender": "",
        },
    )
    assert response.status_code == 403
    assert DistributionSettings.all_objects.get().quarantine_days == 21


def test_the_campaign_list_links_to_the_settings(cx_client, viewer_client):
    for client in (cx_client, viewer_client):
        assert SETTINGS in client.get("/o/acme/campaigns/").content.decode()


# --- email texts: page -------------------------------------------------------------------------


def test_the_email_page_shows_defaults_as_placeholders_and_a_preview_that_saves_nothing(
    org, cx_client, nps_survey
):
    response = cx_client.get(email_page(nps_survey))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'placeholder="Kerro mielipiteesi: Acme Oy"' in html
    assert 'placeholder="Tell us what you think: Acme Oy"' in html
    assert "<iframe sandbox srcdoc=" in html
    assert "/r/previewToken/?score=10" in html  # one link per score, as in a real email
    text = cx_client.get(email_page(nps_survey) + "?language=sv&format=text").content.decode()
    assert "<pre" in text and "Det tar en minut att svara." in text
    assert not PersonalLink.all_objects.exists() and not Invitation.all_objects.exists()


def test_the_survey_builder_links_to_the_email_page(cx_client, nps_survey):
    builder = cx_client.get(f"/o/acme/surveys/{nps_survey.public_id}/").content.decode()
    assert email_page(nps_survey) in builder


def test_saved_texts_are_what_arrives_at_the_smtp_server(
    org, cx_client, write_api, nps_survey, sending, django_capture_on_commit_callbacks
):
    response = cx_client.post(
        email_page(nps_survey) + "?language=fi",
        email_texts(fi=("Miten Kampin myymälä onnistui?", "Hei!\nKävit eilen Kampissa.")),
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?language=fi")
    preview = cx_client.get(response["Location"]).content.decode()
    assert "Miten Kampin myymälä onnistui?" in preview
    contact = reachable_contact(org, email="anna@example.fi", preferred_language="fi")
    with django_capture_on_commit_callbacks(execute=True):
        write_api.post(
            INVITE_API,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "email"},
            format="json",
        )
    message = sending["outbox"].wait_for(1)[0]
    assert message.subject == "Miten Kampin myymälä onnistui?"
    assert "Kävit eilen Kampissa." in message.text
    assert "Hei!<br>Kävit eilen Kampissa." in message.html
    entry = ActivityLog.all_objects.get(action="distribution.email_template.saved")
    assert entry.data["language"] == "fi" and entry.object_id == nps_survey.public_id


def test_an_introduction_without_a_subject_is_a_form_error_and_saves_no_language(
    org, cx_client, nps_survey
):
    response = cx_client.post(
        email_page(nps_survey),
        email_texts(fi=("Otsikko", ""), sv=("", "Bara en inledning")),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_subject_sv_error"' in html and "Write a subject too" in html
    assert not SurveyEmailTemplate.all_objects.exists()


def test_html_in_the_texts_is_shown_as_text_in_both_previews(org, cx_client, nps_survey):
    cx_client.post(email_page(nps_survey), email_texts(en=('Hi "there"', "<b>bold</b> & co")))
    html = cx_client.get(email_page(nps_survey) + "?language=en").content.decode()
    assert "<b>bold" not in html
    # Escaped once by the email template and once more inside the srcdoc attribute.
    assert "&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; &amp;amp; co" in html
    text = cx_client.get(email_page(nps_survey) + "?language=en&format=text").content.decode()
    assert "<b>bold" not in text and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in text
    assert "Hi &quot;there&quot;" in text


def test_a_viewer_reads_the_email_texts_but_cannot_change_them(org, viewer_client, nps_survey):
    SurveyEmailTemplate.all_objects.create(
        organization=org, survey=nps_survey, language="fi", subject="Oma otsikko"
    )
    page = viewer_client.get(email_page(nps_survey))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Oma otsikko" in html and 'name="subject_fi"' not in html
    response = viewer_client.post(email_page(nps_survey), email_texts(fi=("Muutettu", "")))
    assert response.status_code == 403
    assert SurveyEmailTemplate.all_objects.get().subject == "Oma otsikko"


def test_outsider_gets_404_on_both_pages(org, outsider_client, nps_survey):
    for url in (
        SETTINGS,
        email_page(nps_survey),
        f"/o/rival/surveys/{nps_survey.public_id}/invitation-email/",
    ):
        assert outsider_client.get(url).status_code == 404, url
        assert outsider_client.post(url, email_texts()).status_code == 404, url
