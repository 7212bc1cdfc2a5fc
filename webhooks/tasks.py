"""Thin Celery tasks over webhooks.delivery (queue `notifications`) and the periodic sweeps."""

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.scoping import unscoped
from core.tasks import TenantTask
from webhooks import delivery
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent

KEEP = timedelta(days=30)
PURGE_BATCH = 5000


@shared_task(base=TenantTask, soft_time_limit=60, time_limit=90)
def deliver(organization, delivery_id: int) -> str:
    """One attempt at one delivery (claimed first: a second run sends nothing)."""
    return delivery.delivery_send(organization=organization, delivery_id=delivery_id)


@shared_task(base=TenantTask)
def send_due_deliveries(organization) -> int:
    """Send the organization's deliveries that are due: first attempts whose task was lost,
    scheduled retries, replays."""
    return delivery.due_deliveries_send(organization=organization)


@shared_task
def sweep_webhook_deliveries() -> int:
    """Periodic (every 5 s): one `send_due_deliveries` per organization with work due."""
    organization_ids = delivery.organizations_with_due_deliveries()
    for organization_id in organization_ids:
        send_due_deliveries.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(base=TenantTask)
def notify_endpoint_disabled(organization, endpoint_id: int) -> int:
    return delivery.endpoint_disabled_notify(organization=organization, endpoint_id=endpoint_id)


@shared_task
def purge_webhook_history() -> int:
    """Periodic (daily): forget events, deliveries and attempts older than 30 days."""
    cutoff = timezone.now() - KEEP
    removed = 0
    with unscoped():
        removed += _purge(WebhookAttempt.all_objects.filter(started_at__lt=cutoff))
        removed += _purge(WebhookDelivery.all_objects.filter(created_at__lt=cutoff))
        removed += _purge(WebhookEvent.all_objects.filter(created_at__lt=cutoff))
    return removed


def _purge(rows) -> int:
    removed = 0
    while True:
        with transaction.atomic():
            batch = list(rows.order_by().values_list("organization_id", "pk")[:PURGE_BATCH])
            if not batch:
                return removed
            for organization_id in {org for org, _pk in batch}:
                ids = [pk for org, pk in batch if org == organization_id]
                removed += rows.filter(organization_id=organization_id, pk__in=ids).delete()[0]
