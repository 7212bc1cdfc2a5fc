"""Thin Celery tasks of the alerts app; each is safe to run twice (see the services)."""

import logging

from celery import shared_task

from alerts.delivery import RetryLater, notification_send
from alerts.evaluation import Scope
from alerts.models import AlertRule
from alerts.queueing import pending_drain
from alerts.services.alerting import (
    aggregate_check,
    aggregate_rules_sweep,
    response_evaluate,
    responses_evaluate,
    unchecked_response_ids,
)
from alerts.services.escalation import overdue_cases_escalate
from core.scoping import unscoped
from core.tasks import TenantTask, enqueue_on_commit
from tenancy.models import Organization

logger = logging.getLogger(__name__)


@shared_task(base=TenantTask, soft_time_limit=30, time_limit=60)
def evaluate_response(*, organization, response_id: int) -> int:
    return len(response_evaluate(organization=organization, response_id=response_id))


@shared_task(base=TenantTask, soft_time_limit=240, time_limit=300)
def evaluate_pending_responses(*, organization) -> int:
    return pending_drain(
        organization=organization,
        evaluate=lambda ids: responses_evaluate(organization=organization, response_ids=ids),
    )


@shared_task(base=TenantTask, soft_time_limit=60, time_limit=90)
def evaluate_aggregate_rule(*, organization, rule_id: int, scope: dict) -> bool:
    rule = AlertRule.objects.filter(organization=organization, pk=rule_id, is_active=True).first()
    if rule is None:
        return False
    return aggregate_check(rule=rule, scope=Scope(**scope)) is not None


@shared_task(
    base=TenantTask,
    soft_time_limit=30,
    time_limit=60,
    autoretry_for=(RetryLater,),  # connection errors: core.tasks.ResilientTask
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_notification(*, organization, notification_id: int) -> str:
    return notification_send(organization=organization, notification_id=notification_id)


def _organization_ids() -> list[int]:
    with unscoped():
        return list(Organization.objects.values_list("pk", flat=True))


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_unchecked_responses() -> int:
    """Fan out per organization: each one's sweep is its own task (never .get() in a task)."""
    for organization_id in _organization_ids():
        sweep_organization_responses.delay(organization_id=organization_id)
    return 0


@shared_task(base=TenantTask, soft_time_limit=240, time_limit=300)
def sweep_organization_responses(*, organization) -> int:
    response_ids = unchecked_response_ids(organization=organization)
    for start in range(0, len(response_ids), 100):
        responses_evaluate(
            organization=organization, response_ids=response_ids[start : start + 100]
        )
    if response_ids:
        logger.info("alerts sweep evaluated %s responses of %s", len(response_ids), organization)
    return len(response_ids)


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_aggregate_rules() -> int:
    for organization_id in _organization_ids():
        evaluate_organization_aggregates.delay(organization_id=organization_id)
    return 0


@shared_task(base=TenantTask, soft_time_limit=240, time_limit=300)
def evaluate_organization_aggregates(*, organization) -> int:
    return aggregate_rules_sweep(organization=organization)


@shared_task(soft_time_limit=60, time_limit=90)
def escalate_overdue_cases() -> int:
    for organization_id in _organization_ids():
        escalate_organization_cases.delay(organization_id=organization_id)
    return 0


@shared_task(base=TenantTask, soft_time_limit=120, time_limit=180)
def escalate_organization_cases(*, organization) -> int:
    notifications = overdue_cases_escalate(organization=organization)
    for notification in notifications:
        enqueue_on_commit(
            send_notification, organization_id=organization.pk, notification_id=notification.pk
        )
    return len(notifications)


@shared_task(soft_time_limit=60, time_limit=90)
def resend_unsent_notifications() -> int:
    """Queue notifications whose task was lost (broker down when the alert was raised)."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from alerts.enums import DeliveryStatus
    from alerts.models import Notification

    now = timezone.now()
    # Unclaimed for 30 s: the task was lost. Claimed 2 min ago and still sending: its worker died
    # (a send takes seconds; the claim is its lease).
    lost, lease = now - timedelta(seconds=30), now - timedelta(minutes=2)
    with unscoped():
        rows = list(
            Notification.all_objects.filter(
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING], created_at__lt=lost
            )
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease))
            .values_list("organization_id", "pk")[:1000]
        )
    for organization_id, notification_id in rows:
        send_notification.delay(organization_id=organization_id, notification_id=notification_id)
    return len(rows)
