"""Reads of outgoing webhooks shared by the API (and pages). `access_*` answer 404 for missing
and for another organization's alike."""

from datetime import timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.exceptions import NotFoundError
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

FEED_DAYS = 30


def endpoint_list(*, organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization).order_by("-created_at", "-id")


def endpoint_list_with_last_attempt(*, organization) -> QuerySet[WebhookEndpoint]:
    """The endpoints with their latest attempt (`last_attempt_at`, `last_attempt_status_code`,
    `last_attempt_error`, all None without one) in one query: each subquery reads one row of
    the attempt log's (organization, endpoint, -started_at) index."""
    latest = WebhookAttempt.objects.filter(
        organization_id=OuterRef("organization_id"), endpoint_id=OuterRef("pk")
    ).order_by("-started_at", "-id")
    return endpoint_list(organization=organization).annotate(
        last_attempt_at=Subquery(latest.values("started_at")[:1]),
        last_attempt_status_code=Subquery(latest.values("status_code")[:1]),
        last_attempt_error=Subquery(latest.values("error")[:1]),
    )


def access_endpoint(*, organization, public_id: str) -> WebhookEndpoint:
    found = endpoint_list(organization=organization).filter(public_id=public_id).first()
    if found is None:
        raise NotFoundError()
    return found


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(organization_id=endpoint.organization_id, endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-id")
    )


def access_delivery(*, endpoint: WebhookEndpoint, public_id: str) -> WebhookDelivery:
    found = (
        delivery_list(endpoint=endpoint).select_related("endpoint").filter(public_id=public_id)
    ).first()
    if found is None:
        raise NotFoundError()
    return found


def delivery_page(
    *, endpoint: WebhookEndpoint, before: str = "", size: int = 50
) -> tuple[list[WebhookDelivery], str]:
    """Up to `size` deliveries of the endpoint, newest first, older than the delivery whose
    public id is `before` (from the start when empty), and the public id that asks for the
    next page ("" on the last one). A keyset page: no count of the log, one range of its
    index. Raises NotFoundError when `before` is not a delivery of this endpoint."""
    rows = delivery_list(endpoint=endpoint)
    if before:
        anchor = rows.filter(public_id=before).values("created_at", "id").first()
        if anchor is None:
            raise NotFoundError()
        rows = rows.filter(
            Q(created_at__lt=anchor["created_at"])
            | Q(created_at=anchor["created_at"], id__lt=anchor["id"])
        )
    found = list(rows[: size + 1])
    return found[:size], (found[size - 1].public_id if len(found) > size else "")


def event_feed(*, organization) -> QuerySet[WebhookEvent]:
    """The organization's events of the last 30 days, newest first (without contact details)."""
    since = timezone.now() - timedelta(days=FEED_DAYS)
    return WebhookEvent.objects.filter(organization=organization, created_at__gte=since).order_by(
        "-created_at", "-id"
    )
