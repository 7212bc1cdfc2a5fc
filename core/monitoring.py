"""What operators watch: counters and heartbeats, read by cxplatform.monitoring (Prometheus)
and the readiness check.

Web processes, workers and beat may run on different machines, so nothing is counted in a
process's memory: counters (task failures and retries by task, provider errors by provider)
are Redis hashes that any process increments, and the gauges (queue depths, the outbox, the
oldest unprocessed response) are read from Redis and PostgreSQL when Prometheus scrapes. A
counter that cannot reach Redis is skipped with a warning: monitoring never breaks the work.
"""

import logging
import time
from typing import Any

import redis
from celery.signals import heartbeat_sent, task_failure, task_retry
from django.conf import settings

from core import queueing, queues

logger = logging.getLogger(__name__)

COUNTERS = {
    "task_failures": "Tasks that failed for good, by task.",
    "task_retries": "Task retries, by task.",
    "provider_errors": "Errors from message providers (email, Twilio, chat), by provider.",
}
LABELS = {"task_failures": "task", "task_retries": "task", "provider_errors": "provider"}
WORKER_HEARTBEAT_KEY = "monitoring:worker-heartbeat"
# The Redis transport keeps each queue as a list of that name.
QUEUES = queues.ALL


def redis_client() -> redis.Redis | None:
    """The shared client (core.queueing), or None without Redis (the embedded default)."""
    return queueing.redis_client() if settings.REDIS_URL else None


def count(counter: str, label: str) -> None:
    """Add one to `counter` (a key of COUNTERS) for `label`."""
    client = redis_client()
    if client is None:
        return
    try:
        client.hincrby(f"monitoring:{counter}", label[:200], 1)
    except redis.RedisError:
        logger.warning("monitoring: could not count %s %s", counter, label)


@task_failure.connect
def _on_task_failure(sender=None, **kwargs: Any) -> None:
    count("task_failures", getattr(sender, "name", "unknown"))


@task_retry.connect
def _on_task_retry(sender=None, **kwargs: Any) -> None:
    count("task_retries", getattr(sender, "name", "unknown"))


@heartbeat_sent.connect
def _on_worker_heartbeat(sender=None, **kwargs: Any) -> None:
    """A worker's heart beats every few seconds whether or not it has tasks."""
    client = redis_client()
    if client is None:
        return
    try:
        client.set(WORKER_HEARTBEAT_KEY, f"{time.time():.3f}", ex=300)
    except redis.RedisError:
        logger.warning("monitoring: could not record the worker heartbeat")


def worker_heartbeat_age() -> float | None:
    """Seconds since any worker's last heartbeat; None when none was ever seen (or no Redis)."""
    client = redis_client()
    value = client.get(WORKER_HEARTBEAT_KEY) if client is not None else None
    return time.time() - float(value) if value else None


def scheduler_lock_held() -> bool:
    """Whether a beat holds RedBeat's lock (it renews it every few seconds while alive)."""
    client = redis_client()
    key = getattr(settings, "CELERY_REDBEAT_LOCK_KEY", None) or "redbeat::lock"
    return bool(client is not None and client.exists(key))
