"""The examples of docs/api.md, request for request: what the page shows must stay true."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.scoping import tenant_scope
from surveys.services import response_submit
from tenancy.models import Membership
from tests.distribution.test_sharing import answer, smiley_questions, sync
from tests.journeys.factories import MeasurementPlanFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
BASE = "/api/v1/orgs/acme"


@pytest.fixture
def survey(org):
    plan = MeasurementPlanFactory(touchpoint__stage__journey__organization=org, metric="nps")
    return make_survey(org, touchpoint=plan.touchpoint)


def test_trigger_an_invitation_after_a_purchase(write_api, survey):
    body = {
        "contact_data": {
            "external_id": "C-778",
            "email": "maija@example.fi",
            "email_consent": True,
            "preferred_language": "fi",
        },
        "touchpoint": survey.touchpoint.public_id,
        "channel": "email",
        "delay": "PT2H",
        "hidden_fields": {"order": "10045"},
    }
    first = write_api.post(
        f"{BASE}/invitations/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-10045"
    )
    assert first.status_code == 201, first.json()
    invitation = first.json()
    assert invitation["id"].startswith("ivt_")
    assert invitation["status"] == "queued"
    assert invitation["survey"] == survey.public_id
    assert invitation["contact"].startswith("ct_")
    assert set(invitation) >= {"skip_reason", "scheduled_for", "sent_at", "reminders_sent"}

    again = write_api.post(
        f"{BASE}/invitations/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-10045"
    )
    assert again.status_code in (200, 201)
    assert again.json()["id"] == invitation["id"]


def test_push_responses_from_a_kiosk_in_bulk(write_api, survey):
    item = {
        "survey": survey.public_id,
        "channel": "kiosk",
        "language": "fi",
        "submitted_at": "2026-03-02T09:14:00+02:00",
        "idempotency_key": "kiosk-7:1812",
        "answers": [{"question": "score", "value": 9}],
    }
    refused = {
        **item,
        "idempotency_key": "kiosk-7:1813",
        "answers": [{"question": "score", "value": "9"}],
    }
    report = write_api.post(
        f"{BASE}/responses/bulk/", {"responses": [item, refused]}, format="json"
    )

    assert report.status_code == 207
    body = report.json()
    assert (body["created"], body["duplicates"], body["invalid"]) == (1, 0, 1)
    created, invalid = body["results"]
    assert created["status"] == "created" and created["id"].startswith("rsp_")
    assert invalid["status"] == "invalid" and "score" in invalid["errors"]
    assert invalid["code"] == "invalid_answers"

    resent = write_api.post(f"{BASE}/responses/bulk/", {"responses": [item]}, format="json")
    assert resent.status_code == 200
    assert resent.json()["results"][0] == {
        **resent.json()["results"][0],
        "status": "duplicate",
        "id": created["id"],
    }


def test_pull_yesterdays_responses(read_api, org, survey):
    with tenant_scope(org):
        for when in [
            "2026-02-28T23:59:00",
            "2026-03-01T00:01:00",
            "2026-03-01T23:59:00",
            "2026-03-02T00:00:00",
        ]:
            response_submit(
                organization=org,
                survey=survey,
                answers={"score": 9},
                channel="web",
                language="fi",
                submitted_at=datetime.fromisoformat(when).replace(tzinfo=HELSINKI),
            )
    page = read_api.get(
        f"{BASE}/responses/?submitted_after=2026-03-01&submitted_before=2026-03-01&page_size=500"
    ).json()
    assert page["next"] is None
    times = sorted(row["submitted_at"] for row in page["results"])
    assert times == ["2026-03-01T00:01:00+02:00", "2026-03-01T23:59:00+02:00"]
    answer = page["results"][0]["answers"][0]
    assert answer["value"] == 9
    assert set(page["results"][0]) >= {"id", "survey", "touchpoint", "channel", "answers"}


def test_read_a_touchpoints_nps_trend(read_api, org, survey):
    with tenant_scope(org):
        response_submit(
            organization=org,
            survey=survey,
            answers={"score": 10},
            channel="web",
            language="fi",
            submitted_at=datetime(2026, 3, 2, 12, tzinfo=HELSINKI),
        )
    call_command("rebuild_rollups", "--org", org.slug)  # what the metrics worker does
    trend = read_api.get(
        f"{BASE}/metrics/?metric=nps&touchpoint={survey.touchpoint.public_id}"
        "&start=2025-04-01&end=2026-03-31&interval=month"
    )
    assert trend.status_code == 200, trend.json()
    body = trend.json()
    assert len(body["results"]) == 12
    assert {"n", "score", "hidden", "low_precision"} <= set(body["results"][-1])
    assert body["results"][-1]["n"] == 1
    assert body["results"][-1]["hidden"] is True  # n < 5: no score

    kpis = read_api.get(f"{BASE}/kpis/").json()
    assert kpis["results"][0]["touchpoint"] == survey.touchpoint.public_id


def test_run_and_download_a_response_export(
    read_api, org, survey, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with tenant_scope(org):
        response_submit(
            organization=org,
            survey=survey,
            answers={"score": 7},
            channel="web",
            language="fi",
            submitted_at=datetime(2026, 3, 2, 12, tzinfo=HELSINKI),
        )
    body = {
        "format": "jsonl",
        "range": "custom",
        "from": "2026-03-01",
        "to": "2026-03-31",
        "channel": "web",
    }
    with django_capture_on_commit_callbacks(execute=True):
        started = read_api.post(f"{BASE}/exports/", body, format="json")
    assert started.status_code == 202
    job = started.json()
    assert job["filters"] == {k: v for k, v in body.items() if k != "format"}
    assert set(job) == {
        "id",
        "status",
        "format",
        "filters",
        "contact_details",
        "total_rows",
        "processed_rows",
        "file_size",
        "download_url",
        "failure",
        "created_at",
        "finished_at",
        "expires_at",
    }
    polled = read_api.get(started["Location"]).json()
    assert polled["status"] == "ready"
    assert datetime.fromisoformat(polled["expires_at"]) > datetime.now(HELSINKI) + timedelta(days=6)
    download = read_api.get(f"{BASE}/exports/{job['id']}/download/")
    assert b'"score":7' in b"".join(download.streaming_content)


def test_email_a_dashboard_every_monday_or_share_it_by_link(write_api, org, personas, survey):
    members = [
        Membership.all_objects.get(organization=org, user=user).public_id
        for user in (personas.analyst, personas.owner)
    ]
    body = {"dashboard": survey.touchpoint.public_id, "cadence": "weekly", "recipients": members}
    created = write_api.post(f"{BASE}/digests/", body, format="json")
    assert created.status_code == 201, created.json()
    digest = created.json()
    assert digest["id"].startswith("dig_")
    assert (digest["dashboard_type"], digest["active"]) == ("touchpoint", True)
    assert set(digest) == {*body, "id", "dashboard_type", "active", "created_at", "updated_at"}
    paused = write_api.patch(f"{BASE}/digests/{digest['id']}/", {"active": False}, format="json")
    assert paused.json()["active"] is False

    body = {"dashboard": None, "label": "Board meeting"}
    link = write_api.post(f"{BASE}/share-links/", body, format="json").json()
    assert link["id"].startswith("shr_")
    assert (link["dashboard_type"], link["view_count"], link["revoked_at"]) == ("overview", 0, None)
    assert link["url"].endswith(f"/share/{link['token']}/")
    expires = timezone.localtime(datetime.fromisoformat(link["expires_at"]), org.zone)
    assert expires.date() == timezone.localdate(timezone=org.zone) + timedelta(days=31)
    assert "token" not in write_api.get(f"{BASE}/share-links/{link['id']}/").json()
    revoked = write_api.post(f"{BASE}/share-links/{link['id']}/revoke/").json()
    assert revoked["revoked_at"] is not None
    assert Client().get(link["url"]).status_code == 404


def test_put_a_survey_on_a_kiosk_tablet_or_a_website(write_api, org):
    kiosk_survey = make_survey(
        org,
        touchpoint=MeasurementPlanFactory(touchpoint__stage__journey__organization=org).touchpoint,
        questions=smiley_questions(),
    )
    body = {"name": "Kamppi exit", "survey": kiosk_survey.public_id, "location": "Kamppi"}
    created = write_api.post(f"{BASE}/kiosk-devices/", body, format="json")
    assert created.status_code == 201, created.json()
    device = created.json()
    assert set(device) == {
        *body,
        "id",
        "touchpoint",
        "min_interval_seconds",
        "active",
        "last_seen_at",
        "revoked_at",
        "created_at",
        "url",
    }
    token = device["url"].rstrip("/").rsplit("/", 1)[-1]
    sync(token, [answer(4), answer(4)])
    response = write_api.get(f"{BASE}/responses/").json()["results"][0]
    assert response["channel"] == "kiosk"
    assert response["hidden_fields"]["kiosk"] == device["id"]
    assert response["hidden_fields"]["location"] == "Kamppi"
    assert response["hidden_fields"]["flag"] == "too_fast"  # the second came at once
    renewed = write_api.post(f"{BASE}/kiosk-devices/{device['id']}/new-address/").json()
    assert renewed["url"] != device["url"]
    assert write_api.post(f"{BASE}/kiosk-devices/{device['id']}/revoke/").json()["active"] is False

    org.embed_allowed_origins = ["https://shop.example"]
    org.save()
    assert write_api.get(f"{BASE}/").json()["embed_allowed_origins"] == ["https://shop.example"]
    config = Client().get(
        f"/e/{kiosk_survey.link_slug}/config/", HTTP_ORIGIN="https://shop.example"
    )
    assert config.json()["url"].endswith("?channel=embed&embed=1&lang=fi")


def test_receive_and_verify_a_webhook(
    write_api, survey, receiver, loopback_allowed, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        created = write_api.post(
            f"{BASE}/webhooks/",
            {"url": receiver.url, "events": ["response.submitted"]},
            format="json",
        )
    assert created.status_code == 201, created.json()
    endpoint = created.json()
    assert endpoint["id"].startswith("whe_") and endpoint["secret"].startswith("whsec_")
    assert endpoint["active"] is True and endpoint["include_contact_details"] is False

    with django_capture_on_commit_callbacks(execute=True):
        answer = write_api.post(
            f"{BASE}/responses/",
            {"survey": survey.public_id, "channel": "api", "language": "fi",
             "answers": [{"question": "score", "value": 9}]},
            format="json",
        )  # fmt: skip
    assert answer.status_code == 201, answer.json()

    (received,) = receiver.received
    headers = {name.lower(): value for name, value in received.headers.items()}
    event = Webhook(endpoint["secret"]).verify(received.body, headers)
    assert event["type"] == "response.submitted"
    assert event["data"]["id"] == answer.json()["id"]
    assert event["data"]["answers"] == {"score": 9}
    assert headers["webhook-id"].startswith("evt_")
