"""Sending deliveries: claim one with a lease, sign the body, POST it through core.safe_http,
log the attempt, and schedule the retry or give up.

Safe to run twice: the claim is a conditional UPDATE of `claimed_until` (a lease longer than a
call can take), so two tasks, or a task and the sweep, never send the same delivery at the same
time, and a delivered one is never claimed again. A worker that dies mid-send leaves a lease that
lapses; the sweep then sends the delivery again (receivers de-duplicate on `webhook-id`).
"""

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.safe_http import OutboundHTTPError, encode_json, post_body
from core.tasks import enqueue_on_commit
from tenancy.enums import Role
from tenancy.models import Membership
from webhooks import signing
from webhooks.enums import DUE_STATUSES, DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import CONTACT_DETAIL_FIELDS, _refresh_subscribed_after_commit

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0
# Longer than a call can last (safe_http ends every call after twice its timeout).
LEASE = timedelta(seconds=60)
# After the n-th failed attempt the next one comes after RETRY_SCHEDULE[n - 1] (with jitter):
# about 28 hours in all, then the delivery is dead.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.2
FAILING_LIMIT = timedelta(hours=24)
SWEEP_BATCH = 50


def retry_delay(failed_attempts: int) -> timedelta | None:
    """The wait before the next attempt after `failed_attempts` failures in a row; None when
    the delivery should be given up."""
    if failed_attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[failed_attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


def envelope(event: WebhookEvent, endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The JSON an endpoint receives; contact email and phone only if the endpoint asks."""
    data = dict(event.payload)
    if endpoint.include_contact_details and event.contact_details and data.get("contact"):
        details = {k: v for k, v in event.contact_details.items() if k in CONTACT_DETAIL_FIELDS}
        data["contact"] = {**data["contact"], **details}
    return {"type": event.type, "timestamp": event.created_at.isoformat(), "data": data}


def _lease_free(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def delivery_claim(*, organization_id: int, delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt if it is due and nobody holds it."""
    claimed = (
        WebhookDelivery.objects.filter(
            organization_id=organization_id,
            pk=delivery_id,
            status__in=DUE_STATUSES,
            next_attempt_at__lte=now,
        )
        .filter(_lease_free(now))
        .update(claimed_until=now + LEASE)
    )
    return claimed == 1


def delivery_send(*, organization, delivery_id: int, now: datetime | None = None) -> str:
    """Attempt the delivery once if it can be claimed; return its status afterwards, or
    "not_claimed". `now` (the present by default) decides what is due and when to retry."""
    now = now or timezone.now()
    if not delivery_claim(organization_id=organization.pk, delivery_id=delivery_id, now=now):
        return "not_claimed"
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(
        organization_id=organization.pk, pk=delivery_id
    )
    endpoint = delivery.endpoint
    if not endpoint.active:
        delivery.status = DeliveryStatus.DEAD
        delivery.last_error = "the endpoint is turned off"
        delivery.claimed_until = None
        delivery.save(update_fields=["status", "last_error", "claimed_until"])
        return DeliveryStatus.DEAD

    body = encode_json(envelope(delivery.event, endpoint))
    headers = signing.headers(
        endpoint.secrets_now(), delivery.event.public_id, int(time.time()), body
    )
    started_at = timezone.now()
    clock = time.monotonic()
    status_code, text, error = None, "", ""
    try:
        answer = post_body(endpoint.url, body, headers=headers, timeout=TIMEOUT_SECONDS)
        status_code, text = answer.status, answer.text
    except OutboundHTTPError as failure:  # every non-2xx answer too, redirects included
        status_code, text, error = failure.status, failure.text, failure.message
    latency_ms = int((time.monotonic() - clock) * 1000)
    _record(delivery, now, started_at, status_code, text, error, latency_ms)
    return delivery.status


@transaction.atomic
def _record(
    delivery: WebhookDelivery,
    now: datetime,
    started_at: datetime,
    status_code: int | None,
    text: str,
    error: str,
    latency_ms: int,
) -> None:
    endpoint = delivery.endpoint
    excerpt = (text or "")[: WebhookAttempt.RESPONSE_EXCERPT]
    WebhookAttempt.objects.create(
        organization_id=delivery.organization_id,
        delivery=delivery,
        endpoint=endpoint,
        started_at=started_at,
        status_code=status_code,
        error=error[:300],
        latency_ms=latency_ms,
        response_excerpt=excerpt,
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_latency_ms = latency_ms
    delivery.last_error = error[:300]
    delivery.last_response_excerpt = excerpt
    delivery.claimed_until = None
    endpoints = WebhookEndpoint.objects.filter(
        organization_id=delivery.organization_id, pk=endpoint.pk
    )
    if not error:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    elif status_code == 410:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
        _disable(endpoint, now, _("The endpoint answered 410 Gone."))
    else:
        delay = retry_delay(delivery.attempts)
        delivery.status = DeliveryStatus.DEAD if delay is None else DeliveryStatus.FAILED
        delivery.next_attempt_at = None if delay is None else now + delay
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        if endpoint.failing_since is not None and endpoint.failing_since <= now - FAILING_LIMIT:
            _disable(endpoint, now, _("Every delivery failed for 24 hours."))
    delivery.save()


def _disable(endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    """Turn the endpoint off (once) and have its creator and the admins emailed."""
    from webhooks.tasks import notify_endpoint_disabled  # tasks import this module

    disabled = WebhookEndpoint.objects.filter(
        organization_id=endpoint.organization_id, pk=endpoint.pk, active=True
    ).update(active=False, disabled_at=now, disabled_reason=reason[:300])
    if disabled:
        logger.info("webhooks: endpoint %s disabled: %s", endpoint.public_id, reason)
        _refresh_subscribed_after_commit(endpoint.organization_id)
        enqueue_on_commit(
            notify_endpoint_disabled,
            organization_id=endpoint.organization_id,
            endpoint_id=endpoint.pk,
        )


# --- the sweep ---------------------------------------------------------------------------------


def organizations_with_due_deliveries(*, now: datetime | None = None) -> list[int]:
    """Organizations with a delivery due and not held (the partial index of due rows)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.all_objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .filter(_lease_free(now))
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def due_deliveries_send(*, organization, now: datetime | None = None) -> int:
    """Send the organization's due deliveries, oldest first, each claimed before its attempt;
    returns how many were attempted here."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            organization_id=organization.pk, status__in=DUE_STATUSES, next_attempt_at__lte=now
        )
        .filter(_lease_free(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(
        delivery_send(organization=organization, delivery_id=pk, now=now) != "not_claimed"
        for pk in due
    )


# --- telling people ----------------------------------------------------------------------------


def endpoint_disabled_notify(*, organization, endpoint_id: int) -> int:
    """Email the endpoint's creator and the organization's admins and owners that it was
    disabled, each in their language; once per disabling. Returns the number of emails."""
    claimed = WebhookEndpoint.objects.filter(
        organization_id=organization.pk,
        pk=endpoint_id,
        active=False,
        disabled_notified_at__isnull=True,
    ).update(disabled_notified_at=timezone.now())
    if not claimed:
        return 0
    endpoint = WebhookEndpoint.objects.select_related("created_by").get(
        organization_id=organization.pk, pk=endpoint_id
    )
    people = {
        membership.user.email: membership.user
        for membership in Membership.objects.filter(
            organization=organization, role__in=[Role.ADMIN, Role.OWNER]
        ).select_related("user")
    }
    if endpoint.created_by is not None and endpoint.created_by.email:
        people[endpoint.created_by.email] = endpoint.created_by
    sent = 0
    for email, user in sorted(people.items()):
        with translation.override(user.language or organization.default_language):
            context = {"organization": organization, "endpoint": endpoint}
            message = EmailMultiAlternatives(
                subject=_("Webhook endpoint turned off: %(url)s") % {"url": endpoint.url[:80]},
                body=render_to_string("webhooks/email/endpoint_disabled.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email],
            )
            message.attach_alternative(
                render_to_string("webhooks/email/endpoint_disabled.html", context), "text/html"
            )
            message.send()
            sent += 1
    return sent
