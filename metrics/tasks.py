import contextlib
import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from core.scoping import unscoped
from core.tasks import TenantTask
from metrics.queueing import BATCH_SIZE, pending_drain
from metrics.rollups import Bucket
from metrics.services import (
    SWEEP_GRACE,
    buckets_refresh,
    response_process,
    responses_process,
    unprocessed_response_ids,
)
from surveys.models import Response

logger = logging.getLogger(__name__)

# One sweep task processes at most this many batches; the next sweep goes on from there.
SWEEP_BATCHES = 100
# A sweep that died lets go of its organization's lock after this.
SWEEP_LOCK_SECONDS = 300


@shared_task(base=TenantTask)
def process_response(*, organization, response_id: int) -> bool:
    """One response (tasks run in-process, without Redis); workers drain batches instead."""
    return response_process(organization=organization, response_id=response_id)


@shared_task(base=TenantTask)
def process_pending_responses(*, organization) -> int:
    def process(response_ids: list[int]) -> int:
        return responses_process(organization=organization, response_ids=response_ids)

    return pending_drain(organization=organization, process=process)


@shared_task(base=TenantTask)
def refresh_buckets(*, organization, buckets: list[dict]) -> None:
    buckets_refresh(organization=organization, buckets=[Bucket.from_json(b) for b in buckets])


@shared_task
def sweep_unprocessed_responses() -> int:
    """Send one `sweep_organization` per organization with responses whose processing was lost
    (Redis or the broker down, a worker killed); returns how many organizations."""
    cutoff = timezone.now() - SWEEP_GRACE
    with unscoped():
        organization_ids = list(
            Response.all_objects.filter(processed_at__isnull=True, created_at__lt=cutoff)
            .order_by()
            .values_list("organization_id", flat=True)
            .distinct()
        )
    for organization_id in organization_ids:
        sweep_organization.delay(organization_id=organization_id)
    if organization_ids:
        logger.info("sweeping unprocessed responses of %s organizations", len(organization_ids))
    return len(organization_ids)


@shared_task(base=TenantTask)
def sweep_organization(*, organization) -> int:
    # The sweep runs every 20 s; a long backlog must not gather sweeps of one organization.
    lock = f"metrics:sweeping:{organization.pk}"
    try:
        if not cache.add(lock, 1, timeout=SWEEP_LOCK_SECONDS):
            return 0
    except Exception:  # Redis down: sweep anyway (the work is idempotent), just not alone
        logger.warning("cache unavailable; sweeping %s without its lock", organization.pk)
    try:
        swept = 0
        for _ in range(SWEEP_BATCHES):
            response_ids = unprocessed_response_ids(organization=organization, limit=BATCH_SIZE)
            processed = responses_process(organization=organization, response_ids=response_ids)
            swept += processed
            if not processed:
                break
        return swept
    finally:
        with contextlib.suppress(Exception):
            cache.delete(lock)
