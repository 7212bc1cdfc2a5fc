"""Getting committed responses to rule evaluation quickly, in batches.

One Celery task per response spent more on the task than on the rules once submissions came in
tens per second (the alerts queue grew faster than one worker drained it). So a response's id
is pushed to a Redis list per organization (`core.queueing`), and one
`evaluate_pending_responses` task drains the list in batches, reading each batch's responses,
answers and contacts in a few queries. Anything lost (Redis or the broker down, a worker killed
mid-batch) has no `ResponseCheck` and is evaluated by the sweep within a minute or two.
"""

import time
from collections.abc import Callable

from core.queueing import OrganizationQueue, redis_client

BATCH_SIZE = 200
FLAG_SECONDS = 30  # a drainer that died lets go of its flag after this
TURN_SECONDS = 0.5  # a drain's turn on the worker before it hands the rest to a new task
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


def pending_drain(
    *, organization, evaluate: Callable[[list[int]], object], hand_over: Callable[[], bool]
) -> int:
    """Evaluate the organization's queued responses, `BATCH_SIZE` at a time; returns how many
    were taken. Safe to run twice at once: each id is popped by one drainer only.

    A drain takes turns: after `TURN_SECONDS` with more waiting it hands the rest to a new task
    (`hand_over`, keeping the flag) and returns, so the alert emails queued meanwhile on the
    same worker go out instead of waiting for a steady stream of answers to pause.
    """
    taken = 0
    started = time.monotonic()
    while True:
        ids = QUEUE.take(organization.pk, BATCH_SIZE)
        if ids:
            evaluate(ids)
            taken += len(ids)
            QUEUE.hold(organization.pk)
            if time.monotonic() - started >= TURN_SECONDS and hand_over():
                return taken
            continue
        if not QUEUE.finish(organization.pk):
            return taken
