"""Getting committed responses to rule evaluation quickly, in batches.

One Celery task per response spent more on the task than on the rules once submissions came in
tens per second (the alerts queue grew faster than one worker drained it). So a response's id
is pushed to a Redis list per organization, and one `evaluate_pending_responses` task drains
the list in batches, reading each batch's responses, answers and contacts in a few queries.

The handshake never strands an id: the pusher pushes, then sets the organization's "draining"
flag if absent and enqueues a drain when it did; the drainer, finding the list empty, deletes
the flag and looks once more, taking the flag back if something came in between. Anything lost
anyway (Redis or the broker down, a worker killed mid-batch) has no `ResponseCheck` and is
evaluated by the sweep within a minute or two.
"""

import contextlib
import logging
from collections.abc import Callable

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
FLAG_SECONDS = 30  # a drainer that died lets go of its flag after this


def _keys(organization_id: int) -> tuple[str, str]:
    return f"alerts:pending:{organization_id}", f"alerts:draining:{organization_id}"


_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _client


def response_queue_for_evaluation(*, organization_id: int, response_id: int) -> None:
    """Queue a committed response for evaluation; call after commit. Never raises."""
    from alerts.tasks import evaluate_pending_responses, evaluate_response

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        _send(evaluate_response, organization_id=organization_id, response_id=response_id)
        return
    pending, flag = _keys(organization_id)
    try:
        client = redis_client()
        client.rpush(pending, response_id)
        first = client.set(flag, 1, nx=True, ex=FLAG_SECONDS)
    except redis.RedisError:
        logger.warning("redis unavailable; the alerts sweep will evaluate %s", response_id)
        return
    if first and not _send(evaluate_pending_responses, organization_id=organization_id):
        with contextlib.suppress(redis.RedisError):
            client.delete(flag)  # let the next response try to schedule the drain again


def _send(task, **kwargs) -> bool:
    try:
        task.apply_async(kwargs=kwargs)
    except Exception:  # the broker's errors vary by transport; none may break the caller
        logger.exception("could not enqueue %s; the alerts sweep will catch up", task.name)
        return False
    return True


def pending_drain(*, organization, evaluate: Callable[[list[int]], object]) -> int:
    """Evaluate every queued response of the organization, `BATCH_SIZE` at a time; returns how
    many were taken. Safe to run twice at once: each id is popped by one drainer only."""
    pending, flag = _keys(organization.pk)
    client = redis_client()
    taken = 0
    while True:
        raw = client.lpop(pending, BATCH_SIZE)
        if raw:
            ids = [int(value) for value in raw]
            evaluate(ids)
            taken += len(ids)
            client.expire(flag, FLAG_SECONDS)
            continue
        client.delete(flag)
        if client.llen(pending) and client.set(flag, 1, nx=True, ex=FLAG_SECONDS):
            continue
        return taken
