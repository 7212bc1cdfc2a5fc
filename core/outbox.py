"""The transactional outbox: work that can wait is written down in the transaction of the change
that calls for it, so a commit and its tasks cannot part.

`outbox_enqueue` inserts an `OutboxMessage` in the caller's transaction and, once it commits,
publishes the task and deletes the row. A process killed between the commit and the publish, or
a broker that is down at that moment, leaves the row behind; `outbox_relay`, run by beat every
few seconds in a worker, publishes every row older than `RELAY_AFTER`. A task may so be sent
twice (published, then the process died before the delete), never not at all: every task is
idempotent, and the relay claims rows with `FOR UPDATE SKIP LOCKED` so two relays never send the
same row at the same time.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Task, current_app
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage
from core.scoping import unscoped

logger = logging.getLogger(__name__)

# A row this old lost its publish: after a commit the publish takes milliseconds.
RELAY_AFTER = timedelta(seconds=10)
RELAY_BATCH = 500
# A row whose publish failed waits this long before the relay tries it again.
RELAY_BACKOFF = timedelta(seconds=30)


def outbox_enqueue(task: Task, kwargs: dict[str, Any], *, eta: datetime | None = None) -> None:
    """Write `task` (a tenant task: `organization_id` in `kwargs`) into the current transaction
    and publish it after the commit; without a transaction the row commits at once."""
    organization_id = kwargs["organization_id"]
    message = OutboxMessage.all_objects.create(
        organization_id=organization_id,
        task_name=task.name,
        kwargs=kwargs,
        eta=eta,
        due_at=max(timezone.now(), eta or timezone.now()) + RELAY_AFTER,
    )

    def publish() -> None:
        if _publish(task, kwargs, eta):
            OutboxMessage.all_objects.filter(
                organization_id=organization_id, pk=message.pk
            ).delete()

    transaction.on_commit(publish)


def _publish(task: Task, kwargs: dict[str, Any], eta: datetime | None) -> bool:
    options = {"eta": eta} if eta is not None and eta > timezone.now() else {}
    try:
        task.apply_async(kwargs=kwargs, **options)
    except Exception:  # the broker's errors vary by transport; none may break the caller
        logger.warning("could not publish %s; the outbox relay will", task.name, exc_info=True)
        return False
    return True


def outbox_relay(*, limit: int = RELAY_BATCH) -> int:
    """Publish the rows whose publish was lost, organization by organization; return how many."""
    now = timezone.now()
    with unscoped():
        organization_ids = list(
            OutboxMessage.all_objects.filter(due_at__lte=now)
            .order_by()
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return sum(
        _relay_organization(organization_id, now, limit) for organization_id in organization_ids
    )


def _relay_organization(organization_id: int, now: datetime, limit: int) -> int:
    with transaction.atomic():
        messages = list(
            OutboxMessage.all_objects.select_for_update(skip_locked=True)
            .filter(organization_id=organization_id, due_at__lte=now)
            .order_by("due_at", "id")[:limit]
        )
        published, failed = [], []
        for message in messages:
            task = current_app.tasks.get(message.task_name)
            if task is None:
                logger.error(
                    "outbox: no task %s; dropping message %s", message.task_name, message.pk
                )
                published.append(message.pk)
            elif _publish(task, message.kwargs, message.eta):
                published.append(message.pk)
            else:
                failed.append(message.pk)
        rows = OutboxMessage.all_objects.filter(organization_id=organization_id)
        rows.filter(pk__in=published).delete()
        if failed:
            for message in messages:
                if message.pk in failed:
                    message.attempts += 1
                    message.due_at = now + RELAY_BACKOFF
            OutboxMessage.all_objects.bulk_update(
                [message for message in messages if message.pk in failed], ["attempts", "due_at"]
            )
    if published:
        logger.info("outbox: relayed %s tasks of organization %s", len(published), organization_id)
    return len(published)


def outbox_backlog() -> tuple[int, float | None]:
    """How many rows wait, and the age in seconds of the oldest (for metrics and readiness)."""
    with unscoped():
        rows = OutboxMessage.all_objects.order_by("due_at").values_list("created_at", flat=True)
        oldest = rows.first()
        count = OutboxMessage.all_objects.count()
    return count, (timezone.now() - oldest).total_seconds() if oldest else None
