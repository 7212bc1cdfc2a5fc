"""The API of the sending settings and the surveys' invitation email texts."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from core.models import ActivityLog
from distribution.models import DistributionSettings, Invitation, SurveyEmailTemplate
from tests.distribution.factories import reachable_contact
from tests.surveys.factories import make_survey

SETTINGS = "/api/v1/orgs/acme/distribution-settings/"
TEMPLATES = "/api/v1/orgs/acme/email-templates/"
INVITE = "/api/v1/orgs/acme/invitations/"


def make_template(org, survey, language: str = "fi", **fields) -> SurveyEmailTemplate:
    return SurveyEmailTemplate.all_objects.create(
        organization=org,
        survey=survey,
        language=language,
        subject=fields.pop("subject", f"Subject {language}"),
        **fields,
    )


# --- settings ----------------------------------------------------------------------------------


def test_a_read_key_sees_the_defaults_before_anything_is_changed(read_api, personas):
    response = read_api.get(SETTINGS)
    assert response.status_code == 200
    assert response.json() == {
        "survey_throttle_days": 30,
        "quarantine_days": 30,
        "link_expiry_days": 30,
        "sms_sender": "",
        "updated_at": None,
    }


def test_patch_changes_only_the_given_settings_and_is_audited(org, write_api, personas):
    response = write_api.patch(
        SETTINGS, {"quarantine_days": 14, "sms_sender": "+358 40 999 8888"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["quarantine_days"] == 14 and body["survey_throttle_days"] == 30
    assert body["sms_sender"] == "+358409998888" and body["updated_at"]
    assert write_api.get(SETTINGS).json()["quarantine_days"] == 14
    entry = ActivityLog.all_objects.get(organization=org, action="distribution.settings.updated")
    assert entry.data == {"fields": ["quarantine_days", "sms_sender"]}
    assert entry.actor_label.startswith("API key")


def test_invalid_settings_answer_400_with_every_field_error(write_api, personas):
    out_of_range = write_api.patch(
        SETTINGS, {"survey_throttle_days": 400, "link_expiry_days": 0}, format="json"
    )
    assert out_of_range.status_code == 400
    assert set(out_of_range.json()["extra"]["fields"]) == {
        "survey_throttle_days",
        "link_expiry_days",
    }
    sender = write_api.patch(SETTINGS, {"sms_sender": "Acme Shop Oy"}, format="json")
    assert sender.status_code == 400
    body = sender.json()
    assert body["code"] == "invalid_settings"
    assert "1–11" in body["extra"]["fields"]["sms_sender"][0]
    assert not DistributionSettings.all_objects.exists()


def test_a_changed_link_expiry_sets_the_expiry_of_the_next_invitations_link(
    org, write_api, nps_survey, personas
):
    assert write_api.patch(SETTINGS, {"link_expiry_days": 5}, format="json").status_code == 200
    contact = reachable_contact(org, email="anna@example.fi")
    response = write_api.post(
        INVITE,
        {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "email"},
        format="json",
    )
    invitation = Invitation.all_objects.get(public_id=response.json()["id"])
    expected = invitation.scheduled_for + timedelta(days=5)
    assert invitation.personal_link.expires_at == expected


def test_a_changed_throttle_lets_the_api_invite_again_sooner(
    org, write_api, nps_survey, personas, sending, django_capture_on_commit_callbacks
):
    contact = reachable_contact(org, email="anna@example.fi")
    body = {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "email"}
    with django_capture_on_commit_callbacks(execute=True):
        first = write_api.post(INVITE, body, format="json")
    assert first.json()["skip_reason"] == ""
    sending["outbox"].wait_for(1)
    assert write_api.post(INVITE, body, format="json").json()["skip_reason"] == "throttled"
    write_api.patch(SETTINGS, {"survey_throttle_days": 0, "quarantine_days": 0}, format="json")
    assert write_api.post(INVITE, body, format="json").json()["skip_reason"] == ""


def test_the_sms_sender_set_through_the_api_is_the_from_twilio_receives(
    org, write_api, nps_survey, personas, sending, django_capture_on_commit_callbacks
):
    write_api.patch(SETTINGS, {"sms_sender": "+358409998888"}, format="json")
    contact = reachable_contact(org, phone="+358401234567")
    with django_capture_on_commit_callbacks(execute=True):
        write_api.post(
            INVITE,
            {"contact": contact.public_id, "survey": nps_survey.public_id, "channel": "sms"},
            format="json",
        )
    assert [m["From"] for m in sending["twilio"].messages] == ["+358409998888"]


def test_the_settings_have_one_url_only(write_api, personas):
    assert write_api.get(SETTINGS + "dset_x/").status_code == 404
    assert write_api.post(SETTINGS, {"quarantine_days": 1}, format="json").status_code == 405


# --- email templates ---------------------------------------------------------------------------


def test_create_change_list_and_delete_a_surveys_email_texts(org, write_api, nps_survey, personas):
    created = write_api.post(
        TEMPLATES,
        {"survey": nps_survey.public_id, "language": "sv", "subject": "Hej", "intro": "Tack!"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    template_id = created.json()["id"]
    assert created.json()["survey"] == nps_survey.public_id
    changed = write_api.put(
        f"{TEMPLATES}{template_id}/", {"subject": "Hej igen", "intro": ""}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["subject"], changed.json()["intro"]) == ("Hej igen", "")
    listed = write_api.get(f"{TEMPLATES}?survey={nps_survey.public_id}").json()["results"]
    assert [t["id"] for t in listed] == [template_id]
    assert write_api.delete(f"{TEMPLATES}{template_id}/").status_code == 204
    assert not SurveyEmailTemplate.all_objects.exists()
    actions = ActivityLog.all_objects.filter(
        organization=org, object_id=nps_survey.public_id
    ).order_by("id")
    assert [a.action for a in actions] == [
        "distribution.email_template.saved",
        "distribution.email_template.saved",
        "distribution.email_template.deleted",
    ]


def test_a_second_template_for_the_same_survey_and_language_is_a_clear_400(
    org, write_api, nps_survey, personas
):
    existing = make_template(org, nps_survey, "fi")
    response = write_api.post(
        TEMPLATES,
        {"survey": nps_survey.public_id, "language": "fi", "subject": "Toinen"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "email_template_exists" and "already" in body["message"]
    assert body["extra"]["field"] == "language"
    assert SurveyEmailTemplate.all_objects.get().pk == existing.pk


@pytest.mark.parametrize(
    "body, field",
    [
        ({"language": "de", "subject": "Hallo"}, "language"),
        ({"language": "fi", "subject": ""}, "subject"),
        ({"language": "fi", "subject": "x" * 201}, "subject"),
        ({"language": "fi", "subject": "S", "intro": "x" * 2001}, "intro"),
    ],
)
def test_invalid_email_texts_answer_400_naming_the_field(
    write_api, nps_survey, personas, body, field
):
    response = write_api.post(TEMPLATES, {"survey": nps_survey.public_id, **body}, format="json")
    assert response.status_code == 400
    error = response.json()
    assert field in error["extra"].get("fields", {}) or error["extra"].get("field") == field


def test_another_organizations_survey_cannot_get_texts(other_org, write_api, personas):
    theirs = make_survey(other_org, name="Theirs")
    response = write_api.post(
        TEMPLATES, {"survey": theirs.public_id, "language": "fi", "subject": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "survey" in response.json()["extra"]["fields"]
    assert write_api.get(f"{TEMPLATES}?survey={theirs.public_id}").status_code == 400


def test_the_list_answers_in_a_constant_number_of_queries(
    org, read_api, nps_survey, personas, django_assert_num_queries
):
    read_api.get(TEMPLATES)  # the key's first use writes last_used_at once
    for index in range(4):
        survey = make_survey(org, name=f"Survey {index}")
        for language in ("fi", "sv", "en"):
            make_template(org, survey, language)
    # organization, key, one page of templates with their surveys joined
    with django_assert_num_queries(3):
        response = read_api.get(TEMPLATES)
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 12
    assert all(t["survey"].startswith("srv_") for t in body["results"])


def test_read_keys_and_viewers_cannot_write(org, read_api, nps_survey, personas):
    template = make_template(org, nps_survey)
    viewer = APIClient()
    viewer.force_login(personas.viewer)
    for client in (read_api, viewer):
        assert client.get(SETTINGS).status_code == 200
        assert client.get(f"{TEMPLATES}{template.public_id}/").status_code == 200
        assert client.patch(SETTINGS, {"quarantine_days": 1}, format="json").status_code == 403
        new = {"survey": nps_survey.public_id, "language": "sv", "subject": "x"}
        assert client.post(TEMPLATES, new, format="json").status_code == 403
        url = f"{TEMPLATES}{template.public_id}/"
        assert client.put(url, {"subject": "x"}, format="json").status_code == 403
        assert client.delete(url).status_code == 403
    assert not DistributionSettings.all_objects.exists()
    assert SurveyEmailTemplate.all_objects.get().subject == "Subject fi"


def test_outsider_gets_404_for_every_url(org, outsider_api, nps_survey, personas):
    template = make_template(org, nps_survey)
    detail = f"{TEMPLATES}{template.public_id}/"
    for url in (SETTINGS, TEMPLATES, detail):
        assert outsider_api.get(url).status_code == 404, url
    assert outsider_api.patch(SETTINGS, {"quarantine_days": 1}, format="json").status_code == 404
    assert outsider_api.put(detail, {"subject": "x"}, format="json").status_code == 404
    assert outsider_api.delete(detail).status_code == 404
    # Under its own organization the key still cannot reach acme's template.
    rival = f"/api/v1/orgs/rival/email-templates/{template.public_id}/"
    assert outsider_api.get(rival).status_code == 404
    assert outsider_api.delete(rival).status_code == 404
    assert SurveyEmailTemplate.all_objects.exists()
