"""The webhooks pages: admins add, edit, rotate, turn on and delete endpoints, see the secret
once, read the delivery log and replay; everyone else is refused (403 to members, 404 to other
organizations)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenancy.scoping import tenant_scope
from tests.conftest import client_for
from webhooks import services, views
from webhooks.enums import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import event_emit

pytestmark = pytest.mark.django_db
BASE = "/o/acme/webhooks/"


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint(events=["response.submitted", "case.created"])


def emit(org, capture, type="case.created", data=None):
    with capture(execute=True), tenant_scope(org):
        return event_emit(organization=org, type=type, data=data or {"id": "cas_1"})


@pytest.fixture
def delivery(org, endpoint, eager, django_capture_on_commit_callbacks) -> WebhookDelivery:
    """A delivery sent once to the local receiver (the task runs in-process)."""
    event = emit(org, django_capture_on_commit_callbacks)
    found = WebhookDelivery.all_objects.get(event=event)
    assert found.status == DeliveryStatus.SUCCEEDED
    return found


def page_urls(endpoint, delivery) -> list[str]:
    one = f"{BASE}{endpoint.public_id}/"
    return [
        BASE,
        f"{BASE}new/",
        f"{BASE}events-feed/",
        one,
        f"{one}edit/",
        f"{one}rotate-secret/",
        f"{one}active/",
        f"{one}replay/",
        f"{one}delete/",
        f"{one}deliveries/{delivery.public_id}/replay/",
    ]


def test_people_of_another_organization_get_404_on_every_webhooks_page(
    personas, endpoint, delivery
):
    client = client_for(personas.outsider)
    for url in page_urls(endpoint, delivery):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"active": "1"}).status_code == 404, url
    assert WebhookEndpoint.all_objects.get(pk=endpoint.pk).active


@pytest.mark.parametrize("role", ["analyst", "cx_manager", "viewer"])
def test_members_who_are_not_admins_get_403(personas, endpoint, delivery, role):
    client = client_for(getattr(personas, role))
    for url in page_urls(endpoint, delivery):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"active": "0"}).status_code == 403, url
    assert WebhookEndpoint.all_objects.get(pk=endpoint.pk).active


def test_an_id_of_another_organization_answers_404(org, other_org, personas, owner_client):
    theirs = WebhookEndpoint.all_objects.create(
        organization=other_org, url="https://hooks.example.com/", events=["case.created"]
    )
    assert owner_client.get(f"{BASE}{theirs.public_id}/").status_code == 404
    assert owner_client.post(f"{BASE}{theirs.public_id}/delete/").status_code == 404
    assert WebhookEndpoint.all_objects.filter(pk=theirs.pk).exists()


def test_a_delivery_of_another_endpoint_answers_404(
    org, owner_client, make_endpoint, delivery, endpoint
):
    other = make_endpoint(events=["alert.created"])
    url = f"{BASE}{other.public_id}/deliveries/{delivery.public_id}/replay/"
    assert owner_client.post(url).status_code == 404
    assert owner_client.get(f"{BASE}{endpoint.public_id}/?before=whd_nope").status_code == 404


def test_the_navigation_links_webhooks_for_admins_only(personas):
    admin_page = client_for(personas.admin).get("/o/acme/members/").content.decode()
    analyst_page = client_for(personas.analyst).get("/o/acme/members/").content.decode()
    assert f'href="{BASE}"' in admin_page and f'href="{BASE}"' not in analyst_page


def test_without_endpoints_the_page_explains_webhooks_and_links_the_docs(owner_client):
    response = owner_client.get(BASE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Send events to your own systems" in page
    assert 'href="/api/v1/docs/"' in page and f'href="{BASE}new/"' in page


def test_the_list_shows_url_events_state_and_last_delivery(
    owner_client, endpoint, delivery, make_endpoint
):
    gone = make_endpoint(events=["alert.created"], url="https://gone.example.com/hook")
    WebhookEndpoint.all_objects.filter(pk=gone.pk).update(
        active=False, disabled_at=timezone.now(), disabled_reason="The endpoint answered 410 Gone."
    )
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get(BASE).content.decode()
    assert endpoint.url in page and "https://gone.example.com/hook" in page
    assert "<code>case.created</code>" in page and "<code>alert.created</code>" in page
    assert "The endpoint answered 410 Gone." in page
    assert "✓</span> 200" in page  # the receiver's answer to the last delivery
    # The session, the user, the membership, the endpoints with their last attempt, the feed.
    endpoint_queries = [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert len(endpoint_queries) <= 2, endpoint_queries


def test_an_admin_adds_an_endpoint_and_sees_the_secret_once(
    org, personas, owner_client, loopback_allowed, django_capture_on_commit_callbacks
):
    form = {
        "url": "https://hooks.example.com/cx",
        "description": "CRM",
        "events": ["case.created", "alert.created"],
        "active": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"{BASE}new/", form)

    endpoint = WebhookEndpoint.all_objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{endpoint.public_id}/"
    assert endpoint.events == ["alert.created", "case.created"]
    assert endpoint.include_contact_details is False and endpoint.active
    assert endpoint.created_by == personas.owner

    shown = owner_client.get(response["Location"])
    assert shown.status_code == 200
    assert endpoint.secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    again = owner_client.get(response["Location"])
    assert endpoint.secret not in again.content.decode()
    assert endpoint.secret not in owner_client.get(BASE).content.decode()


@pytest.mark.parametrize(
    "url",
    ["https://10.0.0.1/hook", "https://169.254.169.254/latest", "https://localhost/x", "ftp://a.b"],
)
def test_a_private_or_internal_url_is_a_form_error(org, owner_client, url):
    response = owner_client.post(f"{BASE}new/", {"url": url, "events": ["case.created"]})
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    assert 'class="error" id="id_url_error"' in response.content.decode()
    assert not WebhookEndpoint.all_objects.exists()


def test_an_endpoint_needs_an_event(owner_client):
    response = owner_client.post(f"{BASE}new/", {"url": "https://hooks.example.com/"})
    assert response.status_code == 400
    assert response.context["form"].errors["events"] == ["Choose at least one event."]


def test_the_form_groups_the_events_with_a_legend_and_warns_about_contact_details(owner_client):
    page = owner_client.get(f"{BASE}new/").content.decode()
    assert "<legend>Events" in page
    assert page.count('name="events"') == 6
    assert "A response was submitted" in page
    assert "leave the platform" in page


def test_editing_changes_the_endpoint(owner_client, endpoint):
    form = {"url": endpoint.url, "events": ["alert.created"], "include_contact_details": "on"}
    response = owner_client.post(f"{BASE}{endpoint.public_id}/edit/", form)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["alert.created"] and endpoint.include_contact_details
    assert not endpoint.active  # the box was left unticked


def test_editing_to_a_private_url_keeps_the_old_one(owner_client, endpoint):
    form = {"url": "https://192.168.1.1/", "events": ["alert.created"], "active": "on"}
    response = owner_client.post(f"{BASE}{endpoint.public_id}/edit/", form)
    assert response.status_code == 400 and response.context["form"].errors["url"]
    assert WebhookEndpoint.all_objects.get(pk=endpoint.pk).url == endpoint.url


def test_rotating_shows_the_new_secret_once_and_the_overlap(owner_client, endpoint):
    response = owner_client.post(f"{BASE}{endpoint.public_id}/rotate-secret/")
    assert response.status_code == 302
    rotated = WebhookEndpoint.all_objects.get(pk=endpoint.pk)
    assert rotated.secret != endpoint.secret and rotated.previous_secret == endpoint.secret

    page = owner_client.get(response["Location"]).content.decode()
    assert rotated.secret in page and endpoint.secret not in page
    assert "For 24 hours" in page
    assert rotated.secret not in owner_client.get(response["Location"]).content.decode()


def test_the_log_shows_each_delivery_with_its_answer_escaped(owner_client, endpoint, delivery):
    WebhookDelivery.all_objects.filter(pk=delivery.pk).update(
        last_response_excerpt="<script>alert(1)</script>", last_latency_ms=42
    )
    page = owner_client.get(f"{BASE}{endpoint.public_id}/").content.decode()
    assert delivery.public_id in page and delivery.event.public_id in page
    assert "<code>case.created</code>" in page and "Delivered" in page and "42 ms" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_the_log_pages_by_cursor_without_counting(
    org, owner_client, endpoint, delivery, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(2):
        emit(org, django_capture_on_commit_callbacks, data={"id": f"cas_{number}"})
    newest_first = list(
        WebhookDelivery.all_objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
    )

    with CaptureQueriesContext(connection) as queries:
        first = owner_client.get(f"{BASE}{endpoint.public_id}/")
    webhook_queries = [q["sql"] for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert not [sql for sql in webhook_queries if "COUNT(" in sql.upper()]
    assert len(webhook_queries) == 2  # the endpoint, then one page of its log with the events
    page = first.content.decode()
    assert newest_first[0].public_id in page and newest_first[2].public_id not in page
    assert f"?before={newest_first[1].public_id}" in page

    older = owner_client.get(f"{BASE}{endpoint.public_id}/?before={newest_first[1].public_id}")
    page = older.content.decode()
    assert newest_first[2].public_id in page and newest_first[0].public_id not in page
    assert "Older deliveries" not in page and "Newest" in page


def test_replaying_a_delivery_sends_it_again(
    owner_client, endpoint, delivery, receiver, django_capture_on_commit_callbacks
):
    url = f"{BASE}{endpoint.public_id}/deliveries/{delivery.public_id}/replay/"
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="delivery-{delivery.public_id}"')
    assert "Queued to be sent again." in row and 'hx-swap-oob="innerHTML"' in row
    assert WebhookAttempt.all_objects.filter(delivery_id=delivery.pk).count() == 2
    assert len(receiver.received) == 2
    first, second = (r.headers["webhook-id"] for r in receiver.received)
    assert first == second == delivery.event.public_id


def test_replaying_without_htmx_goes_back_to_the_log(
    owner_client, endpoint, delivery, django_capture_on_commit_callbacks
):
    url = f"{BASE}{endpoint.public_id}/deliveries/{delivery.public_id}/replay/"
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url)
    assert response.status_code == 302 and response["Location"] == f"{BASE}{endpoint.public_id}/"
    assert WebhookAttempt.all_objects.filter(delivery_id=delivery.pk).count() == 2


def test_replaying_all_since_a_local_time(
    org, owner_client, endpoint, delivery, django_capture_on_commit_callbacks
):
    local = timezone.localtime(timezone.now() - timedelta(hours=1), org.zone)
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(
            f"{BASE}{endpoint.public_id}/replay/", {"since": local.strftime("%Y-%m-%dT%H:%M")}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0

    later = timezone.localtime(timezone.now() + timedelta(hours=1), org.zone)
    owner_client.post(
        f"{BASE}{endpoint.public_id}/replay/", {"since": later.strftime("%Y-%m-%dT%H:%M")}
    )
    page = owner_client.get(f"{BASE}{endpoint.public_id}/").content.decode()
    assert "0 deliveries will be sent again" in page


def test_a_disabled_endpoint_shows_why_and_is_turned_on_again(owner_client, endpoint, delivery):
    WebhookEndpoint.all_objects.filter(pk=endpoint.pk).update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="Every delivery failed for 24 hours.",
    )
    page = owner_client.get(f"{BASE}{endpoint.public_id}/").content.decode()
    assert "Every delivery failed for 24 hours." in page and "Turn it on again" in page
    assert "/replay/" not in page  # nothing is replayed to an endpoint that is off

    response = owner_client.post(f"{BASE}{endpoint.public_id}/active/", {"active": "1"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == "" and endpoint.disabled_at is None


def test_deleting_asks_first_then_removes_the_endpoint(owner_client, endpoint, delivery):
    confirm = owner_client.get(f"{BASE}{endpoint.public_id}/delete/")
    assert confirm.status_code == 200 and "Delete this endpoint?" in confirm.content.decode()
    assert WebhookEndpoint.all_objects.filter(pk=endpoint.pk).exists()

    response = owner_client.post(f"{BASE}{endpoint.public_id}/delete/")
    assert response.status_code == 302 and response["Location"] == BASE
    assert not WebhookEndpoint.all_objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.all_objects.filter(endpoint_id=endpoint.pk).exists()


def test_the_events_feed_is_switched_on_and_off(org, owner_client):
    assert "The events feed is off." in owner_client.get(BASE).content.decode()

    owner_client.post(f"{BASE}events-feed/", {"enabled": "on"})
    with tenant_scope(org):
        assert services.event_feed_get(organization=org) is True
    assert "The events feed is on." in owner_client.get(BASE).content.decode()

    owner_client.post(f"{BASE}events-feed/", {})
    with tenant_scope(org):
        assert services.event_feed_get(organization=org) is False
