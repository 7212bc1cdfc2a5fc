"""The webhooks and events API: admins manage endpoints, the secret is shown once, outsiders
get 404 everywhere, write keys manage endpoints (an integration registers its own), read keys
and analysts cannot."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.scoping import tenant_scope
from webhooks.enums import DeliveryStatus
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import event_emit

pytestmark = pytest.mark.django_db
API = "/api/v1/orgs/acme/"


def session_api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def owner_api(personas) -> APIClient:
    return session_api(personas.owner)


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint(events=["response.submitted", "case.created"])


@pytest.fixture
def delivery(org, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(), tenant_scope(org):
        event = event_emit(organization=org, type="case.created", data={"id": "cas_1"})
    return WebhookDelivery.all_objects.get(event=event)


def test_an_admin_adds_an_endpoint_and_sees_the_secret_once(owner_api, loopback_allowed):
    body = {"url": "https://hooks.example.com/cx", "events": ["case.created", "alert.created"]}
    created = owner_api.post(API + "webhooks/", body, format="json")

    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["id"].startswith("whe_") and data["secret"].startswith("whsec_")
    assert data["include_contact_details"] is False and data["active"] is True
    read = owner_api.get(f"{API}webhooks/{data['id']}/").json()
    assert "secret" not in read and read["events"] == ["alert.created", "case.created"]
    listed = owner_api.get(API + "webhooks/").json()
    assert [item["id"] for item in listed["results"]] == [data["id"]]


@pytest.mark.parametrize(
    "url", ["https://10.0.0.1/hook", "https://169.254.169.254/", "https://localhost/x", "ftp://a.b"]
)
def test_urls_that_reach_inside_are_refused(owner_api, url):
    response = owner_api.post(
        API + "webhooks/", {"url": url, "events": ["case.created"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "url" in response.json()["extra"]["fields"]


def test_unknown_events_are_refused(owner_api):
    response = owner_api.post(
        API + "webhooks/", {"url": "https://a.example.com/", "events": ["nope"]}, format="json"
    )
    assert response.status_code == 400 and "events" in response.json()["extra"]["fields"]


def test_rotating_gives_a_new_secret_and_keeps_the_old_for_a_day(owner_api, endpoint):
    response = owner_api.post(f"{API}webhooks/{endpoint.public_id}/rotate-secret/")
    assert response.status_code == 200
    assert response.json()["secret"] not in (endpoint.secret, "")
    endpoint.refresh_from_db()
    assert endpoint.secrets_now()[1] != endpoint.secret
    assert endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)


def test_turning_an_endpoint_off_and_on(owner_api, endpoint):
    off = owner_api.patch(f"{API}webhooks/{endpoint.public_id}/", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["disabled_at"]
    on = owner_api.patch(f"{API}webhooks/{endpoint.public_id}/", {"active": True}, format="json")
    assert on.json()["active"] is True and on.json()["disabled_at"] is None


def test_deliveries_are_listed_filtered_and_replayed(owner_api, endpoint, delivery):
    WebhookDelivery.all_objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DEAD, attempts=8, next_attempt_at=None
    )
    url = f"{API}webhooks/{endpoint.public_id}/deliveries/"
    listed = owner_api.get(url).json()["results"]
    assert [item["id"] for item in listed] == [delivery.public_id]
    assert listed[0]["event"] == delivery.event.public_id and listed[0]["status"] == "dead"
    assert owner_api.get(url, {"status": "succeeded"}).json()["results"] == []
    assert owner_api.get(url, {"status": "bogus"}).status_code == 400

    replayed = owner_api.post(f"{url}{delivery.public_id}/replay/")

    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 0 and delivery.next_attempt_at is not None


def test_replay_since_a_time_requeues_the_endpoints_deliveries(owner_api, endpoint, delivery):
    WebhookDelivery.all_objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SUCCEEDED)
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    response = owner_api.post(
        f"{API}webhooks/{endpoint.public_id}/replay/", {"since": since}, format="json"
    )
    assert response.status_code == 202 and response.json() == {"replayed": 1}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_a_turned_off_endpoint_is_not_replayed(owner_api, endpoint, delivery):
    WebhookEndpoint.all_objects.filter(pk=endpoint.pk).update(active=False)
    response = owner_api.post(f"{API}webhooks/{endpoint.public_id}/deliveries/"
                              f"{delivery.public_id}/replay/")  # fmt: skip
    assert response.status_code == 409 and response.json()["code"] == "endpoint_inactive"


def test_deleting_an_endpoint_removes_its_deliveries(owner_api, endpoint, delivery):
    assert owner_api.delete(f"{API}webhooks/{endpoint.public_id}/").status_code == 204
    assert not WebhookDelivery.all_objects.exists()
    assert WebhookEvent.all_objects.exists()  # the feed keeps the event


def test_the_events_feed_lists_the_last_30_days_newest_first(
    read_api, org, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(), tenant_scope(org):
        old = event_emit(organization=org, type="case.created", data={"id": "cas_old"})
        first = event_emit(organization=org, type="case.created", data={"id": "cas_1"})
        second = event_emit(organization=org, type="response.submitted", data={"id": "rsp_1"})
    WebhookEvent.all_objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(31))

    body = read_api.get(API + "events/").json()
    assert [item["id"] for item in body["results"]] == [second.public_id, first.public_id]
    assert body["results"][1]["data"] == {"id": "cas_1"}
    assert body["results"][1]["timestamp"].endswith("Z") or "+" in body["results"][1]["timestamp"]
    by_type = read_api.get(API + "events/", {"type": "case.created"}).json()["results"]
    assert [item["id"] for item in by_type] == [first.public_id]
    after = read_api.get(API + "events/", {"created_after": first.created_at.isoformat()})
    assert [item["id"] for item in after.json()["results"]] == [second.public_id]
    assert read_api.get(API + "events/", {"type": "nope"}).status_code == 400


def _every_url(endpoint, delivery) -> list[tuple[str, str]]:
    base = f"{API}webhooks/{endpoint.public_id}/"
    return [
        ("get", API + "webhooks/"),
        ("post", API + "webhooks/"),
        ("get", base),
        ("patch", base),
        ("delete", base),
        ("post", base + "rotate-secret/"),
        ("post", base + "replay/"),
        ("get", base + "deliveries/"),
        ("get", f"{base}deliveries/{delivery.public_id}/"),
        ("post", f"{base}deliveries/{delivery.public_id}/replay/"),
        ("get", API + "events/"),
        ("get", f"{API}events/{delivery.event.public_id}/"),
    ]


def test_outsiders_get_404_everywhere(outsider_api, personas, endpoint, delivery):
    outsider_session = session_api(personas.outsider)
    for client in (outsider_api, outsider_session):
        for method, url in _every_url(endpoint, delivery):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 404, (method, url, response.status_code)
            assert response.json()["code"] == "not_found"


def test_another_organizations_ids_are_404_to_an_admin(owner_api, org, other_org, personas):
    with tenant_scope(other_org):
        foreign = WebhookEndpoint.objects.create(
            organization=other_org, url="https://x.example.com/", events=["case.created"],
            secret="whsec_x",
        )  # fmt: skip
    assert owner_api.get(f"{API}webhooks/{foreign.public_id}/").status_code == 404
    assert owner_api.get(f"{API}webhooks/{foreign.public_id}/deliveries/").status_code == 404


def test_an_integration_registers_its_endpoint_with_a_write_key(write_api, loopback_allowed):
    body = {"url": "https://crm.example.com/cx-hook", "events": ["response.submitted"]}
    created = write_api.post(API + "webhooks/", body, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    listed = write_api.get(API + "webhooks/").json()["results"]
    assert [item["url"] for item in listed] == ["https://crm.example.com/cx-hook"]


def test_read_keys_and_analysts_cannot_see_or_manage_webhooks(
    read_api, personas, endpoint, delivery
):
    analyst = session_api(personas.analyst)
    for client in (read_api, analyst):
        for method, url in _every_url(endpoint, delivery):
            if "events/" in url:
                continue
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 403, (method, url, response.status_code)
            assert response.json()["code"] == "permission_denied"
    assert WebhookEndpoint.all_objects.filter(pk=endpoint.pk, active=True).exists()


def test_the_events_feed_records_every_event_while_on_without_any_endpoint(
    write_api, read_api, org, django_capture_on_commit_callbacks
):
    def emit() -> None:
        with django_capture_on_commit_callbacks(execute=True), tenant_scope(org):
            event_emit(organization=org, type="case.created", data={"id": "cas_9"})

    emit()  # the feed is off and nobody subscribes: not recorded
    assert read_api.get(API + "events/feed/").json() == {"enabled": False}
    assert read_api.put(API + "events/feed/", {"enabled": True}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        switched = write_api.put(API + "events/feed/", {"enabled": True}, format="json")
    assert switched.status_code == 200 and switched.json() == {"enabled": True}
    emit()
    with django_capture_on_commit_callbacks(execute=True):
        write_api.put(API + "events/feed/", {"enabled": False}, format="json")
    emit()

    results = read_api.get(API + "events/").json()["results"]
    assert [item["data"] for item in results] == [{"id": "cas_9"}]
    assert not WebhookDelivery.all_objects.exists()
    refused = write_api.put(API + "events/feed/", {"enabled": "maybe"}, format="json")
    assert refused.status_code == 400 and "enabled" in refused.json()["extra"]["fields"]


def test_viewers_cannot_read_the_events_feed_but_analysts_and_keys_can(
    read_api, personas, endpoint
):
    assert session_api(personas.viewer).get(API + "events/").status_code == 403
    assert session_api(personas.analyst).get(API + "events/").status_code == 200
    assert read_api.get(API + "events/").status_code == 200
    assert read_api.post(API + "events/", {}, format="json").status_code in (403, 405)
