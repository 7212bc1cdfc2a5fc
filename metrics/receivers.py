"""metrics listens to surveys' signals instead of surveys importing metrics (layering)."""

from core.tasks import enqueue_on_commit
from metrics.queueing import response_queue_for_processing
from metrics.rollups import buckets_of_response
from metrics.tasks import refresh_buckets


def on_response_submitted(sender, *, organization_id: int, response_id: int, **kwargs) -> None:
    """Sent after the response's commit: queue it for the next batch (metrics.queueing)."""
    response_queue_for_processing(organization_id=organization_id, response_id=response_id)


def on_response_deleting(sender, instance, **kwargs) -> None:
    """Refresh the buckets of a response being deleted, whatever deletes it (GDPR erase, admin).

    pre_delete runs before the cascade removes the answers, so the buckets can still be read.
    """
    buckets = [bucket.as_json() for bucket in buckets_of_response(instance)]
    if buckets:
        enqueue_on_commit(
            refresh_buckets, organization_id=instance.organization_id, buckets=buckets
        )
