"""Getting committed responses to rule evaluation quickly, in batches.

One Celery task per response spent more on the task than on the rules once submissions came in
tens per second (the alerts queue grew faster than one worker drained it). So a response's id
is pushed to a Redis list per organization (`core.queueing`), and one
`evaluate_pending_responses` task drains the list in batches, reading each batch's responses,
answers and contacts in a few queries. Anything lost (Redis or the broker down, a worker killed
mid-batch) has no `ResponseCheck` and is evaluated by the sweep within a minute or two.
"""

from collections.abc import Callable

from core.queueing import OrganizationQueue, redis_client, send_task

BATCH_SIZE = 200
FLAG_SECONDS = 30  # a drainer that died lets go of its flag after this
QUEUE = OrganizationQueue("alerts", flag_seconds=FLAG_SECONDS)

__all__ = ["pending_drain", "redis_client", "response_queue_for_evaluation"]


def response_queue_for_evaluation(*, organization_id: int, response_id: int) -> None:
    """Queue a committed response for evaluation; call after commit. Never raises."""
    from alerts.tasks import evaluate_pending_responses, evaluate_response

    QUEUE.submit_response(
        organization_id=organization_id,
        response_id=response_id,
        drain=evaluate_pending_responses,
        one_by_one=evaluate_response,
        note="the alerts sweep will evaluate",
    )


def pending_drain(*, organization, evaluate: Callable[[list[int]], object]) -> int:
    """Evaluate the organization's queued responses (`OrganizationQueue.drain`), one batch per
    task turn: the alert emails queued on the same worker go out between batches instead of
    waiting for a steady stream of answers to pause."""
    from alerts.tasks import evaluate_pending_responses

    return QUEUE.drain(
        organization.pk,
        batch_size=BATCH_SIZE,
        batches=1,
        process=evaluate,
        hand_over=lambda: send_task(evaluate_pending_responses, organization_id=organization.pk),
    )
