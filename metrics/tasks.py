import logging

from celery import shared_task
from django.db import OperationalError

from core.scoping import unscoped
from core.tasks import TenantTask
from metrics.rollups import Bucket
from metrics.services import buckets_refresh, response_process, unprocessed_response_ids
from surveys.models import Response

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 10,
}


@shared_task(base=TenantTask, **RETRY)
def process_response(*, organization, response_id: int) -> bool:
    return response_process(organization=organization, response_id=response_id)


@shared_task(base=TenantTask, **RETRY)
def refresh_buckets(*, organization, buckets: list[dict]) -> None:
    buckets_refresh(organization=organization, buckets=[Bucket.from_json(b) for b in buckets])


@shared_task
def sweep_unprocessed_responses() -> int:
    """Process responses whose task never ran (the broker was down when they were submitted)."""
    with unscoped():
        organization_ids = list(
            Response.all_objects.filter(processed_at__isnull=True)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    swept = 0
    for organization_id in organization_ids:
        swept += sweep_organization.apply(kwargs={"organization_id": organization_id}).get()
    if swept:
        logger.info("swept %s unprocessed responses", swept)
    return swept


@shared_task(base=TenantTask)
def sweep_organization(*, organization) -> int:
    response_ids = unprocessed_response_ids(organization=organization)
    for response_id in response_ids:
        response_process(organization=organization, response_id=response_id)
    return len(response_ids)
