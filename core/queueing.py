"""Ids queued per organization in Redis and drained in batches by one task at a time.

Used where one Celery task per item would cost more than the work itself once items arrive by
the tens per second (alerts evaluating responses, metrics refreshing rollups). A pusher appends
an id to the organization's list and takes the organization's "draining" flag if it is free;
only the taker schedules a drain, so a burst of items costs one task. The drainer takes ids in
batches; finding the list empty, it lets go of the flag and looks once more, taking the flag
back if something came in between (`finish`). So no id is stranded between a push and a drain.
Anything lost anyway (Redis or the broker down, a worker killed mid-batch) is left to each
app's periodic sweep, which works from the database, never from these lists.
"""

import contextlib
import logging
from collections.abc import Callable

import redis
from celery import Task
from django.conf import settings
from django.db import OperationalError

logger = logging.getLogger(__name__)

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _client


class OrganizationQueue:
    """The list and flag of one kind of work (`name`) for each organization.

    Every method may raise `redis.RedisError`; callers decide whether that is fatal.
    """

    def __init__(self, name: str, *, flag_seconds: int = 30) -> None:
        self.name = name
        self.flag_seconds = flag_seconds  # a drainer that died lets go of its flag after this

    def submit_response(
        self, *, organization_id: int, response_id: int, drain: Task, one_by_one: Task, note: str
    ) -> None:
        """Queue a committed response and schedule the organization's drain if none is; call
        after commit. Never raises: what cannot be queued is left to the app's sweep (`note`
        names it in the log). Without Redis (the embedded default, eager tasks) `one_by_one`
        runs for the response itself."""
        if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
            send_task(one_by_one, organization_id=organization_id, response_id=response_id)
            return
        try:
            first = self.push(organization_id, response_id)
        except redis.RedisError:
            logger.warning("redis unavailable; %s %s", note, response_id)
            return
        if first and not send_task(drain, organization_id=organization_id):
            with contextlib.suppress(redis.RedisError):
                self.let_go(organization_id)  # let the next item try to schedule the drain

    def drain(
        self,
        organization_id: int,
        *,
        batch_size: int,
        batches: int,
        process: Callable[[list[int]], object],
        hand_over: Callable[[], bool],
    ) -> int:
        """Process queued ids `batch_size` at a time; return how many were taken.

        Safe to run twice at once: each id is popped by one drainer only. A batch that fails
        on a database error goes back to the list for the task's retry. After `batches`
        batches what is left goes to a new task (`hand_over`, keeping the flag), so a steady stream
        never holds the worker: other organizations' drains and other tasks on the same worker
        get their turn. When the hand-over cannot be sent the flag is let go.
        """
        taken = 0
        for _ in range(batches):
            ids = self.take(organization_id, batch_size)
            if not ids:
                if self.finish(organization_id):
                    continue
                return taken
            try:
                process(ids)
            except OperationalError:
                with contextlib.suppress(redis.RedisError):
                    self.put_back(organization_id, ids)
                raise
            taken += len(ids)
            self.hold(organization_id)
        # The turn is over: hand what is left to a new task, or let go when nothing is.
        if self.finish(organization_id) and not hand_over():
            self.let_go(organization_id)
        return taken

    def keys(self, organization_id: int) -> tuple[str, str]:
        return f"{self.name}:pending:{organization_id}", f"{self.name}:draining:{organization_id}"

    def push(self, organization_id: int, item_id: int) -> bool:
        """Queue one id; True when the caller took the flag and must schedule a drain."""
        pending, flag = self.keys(organization_id)
        client = redis_client()
        client.rpush(pending, item_id)
        return bool(client.set(flag, 1, nx=True, ex=self.flag_seconds))

    def take(self, organization_id: int, count: int) -> list[int]:
        """Pop up to `count` ids; each id is popped by one drainer only."""
        pending, _flag = self.keys(organization_id)
        return [int(value) for value in redis_client().lpop(pending, count) or []]

    def put_back(self, organization_id: int, ids: list[int]) -> None:
        """Return taken ids to the front of the list (their batch failed and will be retried)."""
        if ids:
            pending, _flag = self.keys(organization_id)
            redis_client().lpush(pending, *reversed(ids))

    def hold(self, organization_id: int) -> None:
        """Keep the flag while a long drain goes on."""
        _pending, flag = self.keys(organization_id)
        redis_client().expire(flag, self.flag_seconds)

    def let_go(self, organization_id: int) -> None:
        """Free the flag without looking again (the drain could not be scheduled)."""
        _pending, flag = self.keys(organization_id)
        redis_client().delete(flag)

    def finish(self, organization_id: int) -> bool:
        """Let go of the flag after finding the list empty; True when ids came in meanwhile and
        the flag was taken back, so the caller must go on draining."""
        pending, flag = self.keys(organization_id)
        client = redis_client()
        client.delete(flag)
        return bool(client.llen(pending) and client.set(flag, 1, nx=True, ex=self.flag_seconds))


def send_task(task: Task, **kwargs) -> bool:
    """Send a task; False (logged) when the broker refused."""
    try:
        task.apply_async(kwargs=kwargs)
    except Exception:  # the broker's errors vary by transport; none may break the caller
        logger.exception("could not enqueue %s; its sweep will catch up", task.name)
        return False
    return True
