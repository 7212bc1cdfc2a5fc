"""Getting committed responses into the rollups in batches.

One task per response refreshed a day's rollups from raw answers once per response, so a busy
day cost more per response the busier it got, and the task overhead alone capped a worker at a
few dozen responses a second. So a response's id is pushed to a Redis list per organization
(`core.queueing`) and one `process_pending_responses` task drains it `BATCH_SIZE` ids at a time:
each batch refreshes every rollup day it touches once and marks its responses processed in one
transaction (`metrics.services.responses_process`). Lost ids (Redis or the broker down, a worker
killed mid-batch) keep `processed_at` empty and are picked up by `sweep_unprocessed_responses`.
"""

from collections.abc import Callable

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
    """Process the organization's queued response ids (`OrganizationQueue.drain`)."""
    from metrics.tasks import process_pending_responses

    return QUEUE.drain(
        organization.pk,
        batch_size=BATCH_SIZE,
        batches=BATCHES_PER_TASK,
        process=process,
        hand_over=lambda: send_task(process_pending_responses, organization_id=organization.pk),
    )
