"""Sending deliveries to a real local HTTP server: signatures checked with the
`standardwebhooks` package, retries, redirects, 410, leases, private addresses, the 24-hour
disable and its email."""

import contextlib
import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.scoping import tenant_scope
from webhooks.delivery import RETRY_SCHEDULE, delivery_send, due_deliveries_send
from webhooks.enums import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import endpoint_rotate_secret, event_emit
from webhooks.tasks import purge_webhook_history

pytestmark = pytest.mark.django_db

DATA = {"id": "rsp_test", "answers": {"csat": 2}}


def emit(org, capture, data=DATA, type="response.submitted"):
    # The published task is left out: each test sends by hand.
    with capture(), tenant_scope(org):
        return event_emit(organization=org, type=type, data=data)


def send(org, delivery, now=None) -> str:
    with tenant_scope(org):
        return delivery_send(organization=org, delivery_id=delivery.pk, now=now)


def verify(secret: str, received) -> dict:
    headers = {name.lower(): value for name, value in received.headers.items()}
    return Webhook(secret).verify(received.body, headers)


def test_a_delivery_is_signed_as_standard_webhooks_specifies(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    event = emit(org, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.all_objects.get(event=event)

    assert send(org, delivery) == DeliveryStatus.SUCCEEDED

    (received,) = receiver.received
    assert endpoint.secret.startswith("whsec_")
    payload = verify(endpoint.secret, received)
    assert payload["type"] == "response.submitted" and payload["data"] == DATA
    assert payload["timestamp"].endswith("+00:00")
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["webhook-id"] == event.public_id and event.public_id.startswith("evt_")
    with pytest.raises(WebhookVerificationError):
        verify("whsec_" + "A" * 43 + "=", received)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 200 and delivery.last_response_excerpt == "thanks!"
    assert WebhookAttempt.all_objects.get(delivery=delivery).status_code == 200


def test_after_a_rotation_both_secrets_verify(
    org, make_endpoint, receiver, owner_actor, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    old_secret = endpoint.secret
    with tenant_scope(org):
        endpoint = endpoint_rotate_secret(actor=owner_actor, endpoint=endpoint)
    assert endpoint.secret != old_secret
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))

    send(org, delivery)

    (received,) = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify(endpoint.secret, received)["data"] == DATA
    assert verify(old_secret, received)["data"] == DATA


def test_a_failure_is_retried_later_with_backoff_and_the_same_event_id(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint()
    receiver.statuses = [500, 200]
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    before = timezone.now()

    assert send(org, delivery) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    wait = delivery.next_attempt_at - before
    assert RETRY_SCHEDULE[0] * 0.7 < wait < RETRY_SCHEDULE[0] * 1.3
    assert delivery.last_status_code == 500 and delivery.attempts == 1
    with tenant_scope(org):  # not due yet: the sweep leaves it
        assert due_deliveries_send(organization=org) == 0

    with tenant_scope(org):
        assert due_deliveries_send(organization=org, now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert WebhookAttempt.all_objects.filter(delivery=delivery).count() == 2


def test_retries_span_about_a_day_then_the_delivery_is_dead(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint()
    receiver.statuses = [503]
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    now = timezone.now()
    waits = []
    while send(org, delivery, now=now) == DeliveryStatus.FAILED:
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert len(waits) == len(RETRY_SCHEDULE)
    assert waits == sorted(waits) or waits[-1] > timedelta(hours=7)
    assert timedelta(hours=20) < sum(waits, timedelta()) < timedelta(hours=36)


def test_a_redirect_is_a_failure_and_is_not_followed(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint()
    receiver.statuses = [302]
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))

    assert send(org, delivery) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and "redirect" in delivery.last_error
    assert len(receiver.received) == 1


def test_410_gone_disables_the_endpoint_at_once(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    receiver.statuses = [410]
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))

    with django_capture_on_commit_callbacks(execute=False):
        assert send(org, delivery) == DeliveryStatus.DEAD
    endpoint.refresh_from_db()
    assert endpoint.active is False and "410" in endpoint.disabled_reason
    # Nothing more is recorded for it.
    assert emit(org, django_capture_on_commit_callbacks) is None


def test_the_same_delivery_run_twice_at_once_is_sent_once(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks, transactional_db
):
    make_endpoint()
    receiver.delay = 0.5  # the first send is still waiting for its answer when the second runs
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    results = []

    def run() -> None:
        try:
            results.append(send(org, delivery))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["not_claimed", DeliveryStatus.SUCCEEDED]
    assert len(receiver.received) == 1


@pytest.mark.parametrize("url", ["https://10.0.0.1/hook", "https://169.254.169.254/latest"])
def test_private_addresses_are_refused_when_saved(org, owner_actor, url):
    from core.exceptions import ApplicationError
    from webhooks.services import endpoint_create

    with tenant_scope(org), pytest.raises(ApplicationError) as refused:
        endpoint_create(actor=owner_actor, organization=org, url=url, events=["case.created"])
    assert refused.value.code == "invalid_url"


def test_a_name_resolving_to_loopback_is_refused_at_connect_time(
    org, make_endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    # As if the name's DNS changed after it was saved: "localhost" resolves to 127.0.0.1.
    port = receiver.url.split(":")[2].split("/")[0]
    WebhookEndpoint.all_objects.filter(pk=endpoint.pk).update(
        url=f"http://localhost:{port}/hooks/cx"
    )
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))

    assert send(org, delivery) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "private or internal" in delivery.last_error
    assert receiver.received == []


def test_contact_details_reach_only_endpoints_that_include_them(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    plain = make_endpoint(events=["contact.unsubscribed"])
    detailed = make_endpoint(events=["contact.unsubscribed"], include_contact_details=True)
    data = {"contact": {"id": "ct_1", "email": "anna@example.fi", "phone": "+358401234567"}}
    event = emit(org, django_capture_on_commit_callbacks, data=data, type="contact.unsubscribed")
    assert "email" not in json.dumps(event.payload)

    for delivery in WebhookDelivery.all_objects.filter(event=event):
        send(org, delivery)

    bodies = {}
    for received in receiver.received:
        for endpoint in (plain, detailed):
            with contextlib.suppress(WebhookVerificationError):
                bodies[endpoint.pk] = verify(endpoint.secret, received)
    assert bodies[plain.pk]["data"]["contact"] == {"id": "ct_1"}
    assert bodies[detailed.pk]["data"]["contact"]["email"] == "anna@example.fi"
    assert bodies[detailed.pk]["data"]["contact"]["phone"] == "+358401234567"


def test_an_endpoint_failing_for_a_day_is_disabled_and_the_admins_emailed(
    org,
    make_endpoint,
    receiver,
    personas,
    smtp_outbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    endpoint = make_endpoint()
    receiver.statuses = [500]
    first = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    now = timezone.now()
    assert send(org, first, now=now) == DeliveryStatus.FAILED
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now and endpoint.active

    later = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=True):
        send(org, later, now=now + timedelta(hours=24, minutes=1))

    endpoint.refresh_from_db()
    assert endpoint.active is False and endpoint.disabled_at is not None
    messages = smtp_outbox.wait_for(2)
    recipients = sorted(address for message in messages for address in message.to)
    assert recipients == sorted([personas.owner.email, personas.admin.email])
    assert all(endpoint.url in message.text for message in messages)
    assert personas.analyst.email not in recipients


def test_a_success_clears_the_failure_clock(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    receiver.statuses = [500, 200]
    send(org, WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks)))
    send(org, WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks)))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.active


def test_an_endpoint_turned_off_gets_nothing_more(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    delivery = WebhookDelivery.all_objects.get(event=emit(org, django_capture_on_commit_callbacks))
    WebhookEndpoint.all_objects.filter(pk=endpoint.pk).update(active=False)

    assert send(org, delivery) == DeliveryStatus.DEAD
    assert receiver.received == []


def test_the_delivery_log_keeps_30_days(
    org, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint()
    old, fresh = (emit(org, django_capture_on_commit_callbacks) for _ in range(2))
    for event in (old, fresh):
        send(org, WebhookDelivery.all_objects.get(event=event))
    long_ago = timezone.now() - timedelta(days=31)
    WebhookEvent.all_objects.filter(pk=old.pk).update(created_at=long_ago)
    WebhookDelivery.all_objects.filter(event=old).update(created_at=long_ago)
    WebhookAttempt.all_objects.filter(delivery__event=old).update(started_at=long_ago)

    assert purge_webhook_history() == 3

    assert list(WebhookEvent.all_objects.all()) == [fresh]
    assert WebhookDelivery.all_objects.get().event == fresh
    assert WebhookAttempt.all_objects.get().delivery.event == fresh
