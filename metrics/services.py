from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from metrics.rollups import Bucket, buckets_of_response, rollup_refresh_bucket
from surveys.models import Response


def response_process(*, organization, response_id: int) -> bool:
    """Refresh the rollups a response touches and mark it processed.

    Safe to run any number of times: buckets are recomputed from raw answers. Returns False when
    the response is gone (its buckets were refreshed by whoever deleted it).
    """
    response = (
        Response.objects.filter(organization=organization, pk=response_id)
        .select_related("organization")
        .prefetch_related("answers__question")
        .first()
    )
    if response is None:
        return False
    # One transaction (one commit: the worker's rate is mostly commits); the buckets are
    # refreshed in a fixed order, so two workers lock the same rows in the same order.
    with transaction.atomic():
        for bucket in sorted(buckets_of_response(response), key=repr):
            rollup_refresh_bucket(organization=organization, bucket=bucket)
        Response.objects.filter(pk=response.pk, processed_at__isnull=True).update(
            processed_at=timezone.now()
        )
    return True


def buckets_refresh(*, organization, buckets: list[Bucket]) -> None:
    for bucket in buckets:
        rollup_refresh_bucket(organization=organization, bucket=bucket)


# A response younger than this may still have its task in the queue; the sweep leaves it alone.
SWEEP_GRACE = timedelta(minutes=2)


def unprocessed_response_ids(*, organization, limit: int = 1000) -> list[int]:
    cutoff = timezone.now() - SWEEP_GRACE
    return list(
        Response.objects.filter(
            organization=organization, processed_at__isnull=True, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
