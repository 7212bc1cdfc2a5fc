"""Task base classes: tenant-aware tasks and enqueueing that waits for the commit."""

import logging
import random
from datetime import datetime
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, shared_task
from celery.signals import task_postrun, task_prerun
from django import db
from django.apps import apps
from django.db import close_old_connections

from core.scoping import tenant_scope

logger = logging.getLogger(__name__)


# A service that cannot be reached for a moment: the database (a restart, a failover), Redis,
# the broker. The task is sent again later instead of failing for good.
CONNECTION_ERRORS = (
    db.OperationalError,
    db.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
# About 20 minutes of attempts in all: 1, 2, 4 ... seconds, then every 60 s or so.
CONNECTION_RETRIES = 25
CONNECTION_BACKOFF_CAP = 60


def connection_backoff(retries: int) -> float:
    """Seconds before the next attempt: exponential up to the cap, with jitter, so tasks
    that failed together do not all come back at the same moment."""
    return random.uniform(0.5, 1.0) * min(CONNECTION_BACKOFF_CAP, 2**retries)


class ResilientTask(Task):
    """Every task's base (`task_cls` of the Celery app): a connection error anywhere in the task,
    including what runs before its body (TenantTask's organization look-up), is retried with
    backoff and jitter instead of dropping the task."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.call_in_context(*args, **kwargs)
        except CONNECTION_ERRORS as error:
            if self.request.is_eager or self.request.called_directly:
                raise  # run inline by its caller, who sees the error
            retries = self.request.retries
            logger.warning("%s: %s; retry %s", self.name, type(error).__name__, retries + 1)
            raise self.retry(
                exc=error,
                countdown=connection_backoff(retries),
                max_retries=max(CONNECTION_RETRIES, self.max_retries or 0),
            ) from error

    def call_in_context(self, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*args, **kwargs)


class TenantTask(ResilientTask):
    """Runs the task inside its organization's scope.

    Tasks take `organization_id` (never model instances). When the organization is gone the task
    returns quietly: there is nothing left to do, and retrying would not change that.
    """

    abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Celery checks the arguments of apply_async() against the task function, which takes
        # `organization`; callers send `organization_id`, which __call__ turns into it. Check
        # against that translation, so wrong arguments are still refused when sent.
        header = cls.__dict__.get("__header__")
        if isinstance(header, staticmethod):
            check_function_arguments = header.__func__

            def check_arguments(*args: Any, organization_id: int, **task_kwargs: Any) -> Any:
                return check_function_arguments(*args, organization=organization_id, **task_kwargs)

            cls.__header__ = staticmethod(check_arguments)

    def call_in_context(self, *args: Any, organization_id: int, **kwargs: Any) -> Any:
        organization_model = apps.get_model("tenancy", "Organization")
        organization = organization_model.objects.filter(pk=organization_id).first()
        if organization is None:
            logger.info("%s: organization %s is gone; nothing to do", self.name, organization_id)
            return None
        with tenant_scope(organization):
            return super().call_in_context(*args, organization=organization, **kwargs)

    def retry(self, args: Any = None, kwargs: Any = None, *more: Any, **options: Any) -> Any:
        # The running request holds the Organization itself, which a message cannot carry: a
        # retry (autoretry_for included) sends its id again, as callers do.
        if kwargs is None:
            kwargs = dict(self.request.kwargs or {})
        if "organization" in kwargs:
            kwargs = {**kwargs, "organization_id": kwargs["organization"].pk}
            del kwargs["organization"]
        return super().retry(args, kwargs, *more, **options)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Task | None = None, **kwargs: Any) -> None:
    """With `CELERY_DB_REUSE_MAX` set, a worker keeps its database connection from task to task
    (opening one per task cost more than a small task's work). Close it as Django does around a
    request: once it failed or outlived `CONN_MAX_AGE`. Eager tasks run inside the caller's
    transaction, whose connection is not theirs to close."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


def enqueue_on_commit(task: Task, *, eta: datetime | None = None, **kwargs: Any) -> None:
    """Send tenant task `task` (with `organization_id` among `kwargs`) once the surrounding
    transaction commits, at `eta` if given.

    It goes through the transactional outbox (core.outbox): written in this transaction,
    published after the commit. A broker that is down, or a process that dies before the
    publish, does not lose it and does not undo work already saved: the relay sends it later.
    """
    from core.outbox import outbox_enqueue  # models load after this module

    outbox_enqueue(task, kwargs, eta=eta)


@shared_task
def relay_outbox() -> int:
    """Periodic (every few seconds): publish the outbox rows whose publish was lost."""
    from core.outbox import outbox_relay

    return outbox_relay()


@shared_task
def purge_idempotency_keys() -> int:
    """Forget stored answers to Idempotency-Key requests once retries can no longer come."""
    from core.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
