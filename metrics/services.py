from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from metrics.rollups import Bucket, rollup_days_of_responses, rollups_refresh
from surveys.models import Response


def responses_process(*, organization, response_ids: Iterable[int]) -> int:
    """Refresh the rollup days these responses touch, each once, and mark them processed, in one
    transaction; returns how many were processed.

    Ids may repeat and come in any order; responses already processed or gone are skipped (a
    response's deleter refreshes its days). Safe to run any number of times: days are recomputed
    from raw answers.
    """
    pending = list(
        Response.objects.filter(
            organization=organization, pk__in=set(response_ids), processed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not pending:
        return 0
    with transaction.atomic():
        days = rollup_days_of_responses(organization=organization, response_ids=pending)
        rollups_refresh(organization=organization, days=days)
        return Response.objects.filter(pk__in=pending, processed_at__isnull=True).update(
            processed_at=timezone.now()
        )


def response_process(*, organization, response_id: int) -> bool:
    """`responses_process` for one response; False when it was processed already or is gone."""
    return responses_process(organization=organization, response_ids=[response_id]) == 1


def buckets_refresh(*, organization, buckets: Iterable[Bucket]) -> None:
    rollups_refresh(
        organization=organization,
        days={bucket.rollup_day: bucket.metric for bucket in buckets},
    )


# A response younger than this may still be queued for processing; the sweep leaves it alone.
SWEEP_GRACE = timedelta(seconds=30)


def unprocessed_response_ids(*, organization, limit: int = 1000) -> list[int]:
    cutoff = timezone.now() - SWEEP_GRACE
    return list(
        Response.objects.filter(
            organization=organization, processed_at__isnull=True, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
