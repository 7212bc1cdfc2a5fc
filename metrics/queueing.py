"""Getting committed responses into the rollups in batches.

One task per response refreshed a day's rollups from raw answers once per response, so a busy
day cost more per response the busier it got, and the task overhead alone capped a worker at a
few dozen responses a second. So a response's id is pushed to a Redis list per organization
(`core.queueing`) and one `process_pending_responses` task drains it `BATCH_SIZE` ids at a time:
each batch refreshes every rollup day it touches once and marks its responses processed in one
transaction (`metrics.services.responses_process`). Lost ids (Redis or the broker down, a worker
killed mid-batch) keep `processed_at` empty and are picked up by `sweep_unprocessed_responses`.
"""

import contextlib
from collections.abc import Callable

import redis
from django.db import OperationalError

from core.queueing import OrganizationQueue, send_task

BATCH_SIZE = 500
# After this many batches a drain hands over to a fresh task, so one organization's backlog
# neither runs into the task time limit nor keeps other organizations' drains waiting.
BATCHES_PER_TASK = 20
QUEUE = OrganizationQueue("metrics")


def response_queue_for_processing(*, organization_id: int, response_id: int) -> None:
    """Queue a committed response for the rollups; call after commit. Never raises."""
    from metrics.tasks import process_pending_responses, process_response

    QUEUE.submit_response(
        organization_id=organization_id,
        response_id=response_id,
        drain=process_pending_responses,
        one_by_one=process_response,
        note="the metrics sweep will process",
    )


def pending_drain(*, organization, process: Callable[[list[int]], object]) -> int:
    """Process the organization's queued response ids in batches; returns how many were taken.

    Safe to run twice at once: each id is popped by one drainer only. A batch that fails on a
    database error goes back to the list for the task's retry; after `BATCHES_PER_TASK` batches
    the drain goes on in a new task.
    """
    from metrics.tasks import process_pending_responses

    taken = 0
    for _ in range(BATCHES_PER_TASK):
        ids = QUEUE.take(organization.pk, BATCH_SIZE)
        if not ids:
            if QUEUE.finish(organization.pk):
                continue
            return taken
        try:
            process(ids)
        except OperationalError:
            with contextlib.suppress(redis.RedisError):
                QUEUE.put_back(organization.pk, ids)
            raise
        taken += len(ids)
        QUEUE.hold(organization.pk)
    if not send_task(process_pending_responses, organization_id=organization.pk):
        QUEUE.let_go(organization.pk)
    return taken
