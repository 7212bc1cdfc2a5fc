"""Kiosk devices through the API: registered with the address shown once, listed, given a new
address and removed, as on the Kiosks page."""

import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from distribution.models import KioskDevice
from surveys.models import Response
from tests.distribution.test_sharing import smiley_questions
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = pytest.mark.django_db
URL = "/api/v1/orgs/acme/kiosk-devices/"


@pytest.fixture
def kiosk_survey(org):
    return make_survey(org, touchpoint=make_touchpoint(org, "Exit"), questions=smiley_questions())


def one_answer(address: str):
    body = {
        "answers": [
            {
                "id": uuid.uuid4().hex,
                "answered_at": timezone.now().isoformat(),
                "language": "en",
                "answers": {"q1": 4},
            }
        ]
    }
    path = address.removeprefix("http://testserver")
    return Client().post(path + "answers/", json.dumps(body), content_type="application/json")


def test_an_integration_registers_a_device_and_gets_its_address_once(write_api, kiosk_survey):
    created = write_api.post(
        URL,
        {"name": "Kamppi exit", "survey": kiosk_survey.public_id, "location": "Kamppi"},
        format="json",
    )
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    assert body["touchpoint"] == kiosk_survey.touchpoint.public_id
    assert body["active"] is True and body["min_interval_seconds"] == 3
    assert body["url"].startswith("http://testserver/k/")
    assert one_answer(body["url"]).status_code == 200
    listed = write_api.get(URL).json()["results"]
    assert [d["id"] for d in listed] == [body["id"]] and "url" not in listed[0]
    read = write_api.get(f"{URL}{body['id']}/").json()
    assert "url" not in read and read["last_seen_at"] is not None


def test_a_survey_a_kiosk_cannot_ask_is_a_field_error(write_api, org, other_org):
    nps = make_survey(org, name="NPS")
    refused = write_api.post(URL, {"name": "Exit", "survey": nps.public_id}, format="json")
    assert refused.status_code == 400
    assert "four-face smiley" in refused.json()["extra"]["fields"]["survey"][0]
    theirs = make_survey(other_org, questions=smiley_questions())
    unknown = write_api.post(URL, {"name": "Exit", "survey": theirs.public_id}, format="json")
    assert unknown.status_code == 400 and "survey" in unknown.json()["extra"]["fields"]
    blank = write_api.post(URL, {"name": "", "survey": nps.public_id, "min_interval_seconds": 99})
    assert set(blank.json()["extra"]["fields"]) >= {"name", "min_interval_seconds"}
    assert not KioskDevice.all_objects.exists()


def test_removing_stops_the_device_and_a_new_address_restores_it(write_api, kiosk_survey):
    body = write_api.post(
        URL, {"name": "Exit", "survey": kiosk_survey.public_id}, format="json"
    ).json()
    removed = write_api.post(f"{URL}{body['id']}/revoke/")
    assert removed.status_code == 200 and removed.json()["active"] is False
    assert one_answer(body["url"]).status_code == 410
    renewed = write_api.post(f"{URL}{body['id']}/new-address/")
    assert renewed.status_code == 200 and renewed.json()["active"] is True
    assert renewed.json()["url"] != body["url"]
    assert one_answer(body["url"]).status_code == 404
    assert one_answer(renewed.json()["url"]).status_code == 200
    assert Response.all_objects.filter(channel="kiosk").count() == 1


def test_the_organization_names_the_websites_allowed_to_embed(write_api, org):
    org.embed_allowed_origins = ["https://shop.example"]
    org.save()
    body = write_api.get("/api/v1/orgs/acme/").json()
    assert body["embed_allowed_origins"] == ["https://shop.example"]
